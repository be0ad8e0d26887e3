{{ .Release.Name }} - from {{ .Template.Name }}
