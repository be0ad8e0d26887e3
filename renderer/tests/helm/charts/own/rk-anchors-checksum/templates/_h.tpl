{{- define "rk.robust" -}}
{{ regexReplaceAll "\\W+" . "-" | replace "_" "-" | lower }}
{{- end }}
