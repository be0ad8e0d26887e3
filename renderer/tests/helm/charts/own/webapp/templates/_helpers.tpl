{{- define "webapp.labels" -}}
{{ include "commonlib.labels.standard" . }}
{{- with .Values.global.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
