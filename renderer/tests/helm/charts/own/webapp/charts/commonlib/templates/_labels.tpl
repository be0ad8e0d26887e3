{{- define "commonlib.labels.standard" -}}
app.kubernetes.io/name: {{ include "commonlib.names.name" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- end -}}

{{- define "commonlib.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "commonlib.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
