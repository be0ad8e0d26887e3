{{- /* Cilium's test: a duration is non-zero when shifting now by it changes the time. */}}
{{- define "hasDuration" }}
{{- $now := now }}
{{- if ne $now ($now | dateModify (toString .)) }}
{{- . }}
{{- end }}
{{- end }}
{{- /* State shared through the root context, set by the first template rendered. */}}
{{- define "setup" }}
{{- if not .shared }}
{{- $_ := set . "shared" .Template.Name }}
{{- end }}
{{- end }}
