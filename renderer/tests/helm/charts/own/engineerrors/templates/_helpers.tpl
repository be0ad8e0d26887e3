{{- define "helper.name" -}}{{- include "common.names.get" . -}}{{- end -}}
{{- define "recursion" }}{{ include "recursion" . }}{{ end -}}
