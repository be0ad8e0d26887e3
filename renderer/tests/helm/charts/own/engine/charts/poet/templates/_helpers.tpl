{{- define "shared" -}}child value{{- end -}}
