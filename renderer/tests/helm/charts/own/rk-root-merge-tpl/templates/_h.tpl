{{- define "rk.cert" -}}
{{- $prev := lookup "v1" "Secret" .Release.Namespace "cert" }}
{{- $ca := "" }}
{{- if $prev }}
{{- $ca = index $prev "data" "ca.crt" }}
{{- else }}
{{- $ca = .Files.Get .Values.caFile | b64enc }}
{{- end }}
{{- dict "ca" $ca "prev" (toString $prev) "nil" (eq (toString $prev) "<nil>") | toYaml }}
{{- end }}
