{{- define "r" }}{{ if lt (int .n) (int .max) }}{{ include "r" (dict "n" (add1 .n) "max" .max) }}{{ else }}{{ .n }}{{ end }}{{ end }}
{{- define "a" }}{{ if lt (int .n) (int .max) }}{{ include "b" (dict "n" (add1 .n) "max" .max) }}{{ else }}{{ .n }}{{ end }}{{ end }}
{{- define "b" }}{{ tpl "{{ include \"a\" . }}" . }}{{ end }}
