{{- /* bjw-s common once shipped "{{ - end }}" (a space before the trim
  marker): Go's lexer reads "-" as a bad number, so the library fails to
  parse and Helm names the library's file and line. */ -}}
{{- define "lib.svc" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: svc
data:
  {{- range $i := until 2 }}
  k{{ $i }}: v
  {{ - end }}
{{- end -}}
