{{- define "sweep.where" -}}{{ .Template.Name }}|{{ .Template.BasePath }}{{- end -}}
