{{- define "kid.name" -}}kid-{{ .Chart.Name }}-{{ .Template.Name }}{{- end -}}
