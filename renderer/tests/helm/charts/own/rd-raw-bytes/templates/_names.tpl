{{/* Résumé of the names (Latin-1 comment) */}}
{{- define "rd.name" -}}
{{ .Release.Name }}-cfg
{{- end }}
