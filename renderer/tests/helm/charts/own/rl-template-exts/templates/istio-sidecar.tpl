{{- define "x.side" }}side{{ end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-tpl
