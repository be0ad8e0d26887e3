{{- define "common.names.get" -}}{{- .Values.nonexistent.key | trunc 63 | trimSuffix "-" -}}{{- end -}}
