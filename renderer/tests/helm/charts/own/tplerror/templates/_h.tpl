{{- define "tplerror.bad" }}{{ .nope.x }}{{ end }}
{{- define "tplerror.viaTpl" }}{{ tpl "{{ .a.b }}" . }}{{ end }}
