{{- define "errors.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository -}}
{{ $repo }}:{{ .Values.image.tag | default "latest" }}
{{- end -}}

{{- define "errors.outer" -}}
image: {{ include "errors.image" . }}
{{- end -}}

{{- define "errors.nil" -}}
{{ .Values.missing.deeper.value }}
{{- end -}}

{{- define "errors.wrap" -}}
{{ include "errors.nil" . | nindent 2 }}
{{- end -}}

{{- define "errors.index" -}}
{{ index (list 1 2) 5 }}
{{- end -}}
