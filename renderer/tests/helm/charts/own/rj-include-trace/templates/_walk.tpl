{{- /* Recursion shapes of real charts' helpers: a counter recursion, two
helpers calling each other, and a walk of a values tree (nats tplYamlItr). */}}
{{- define "rj.recurse" }}{{ if gt (int .) 0 }}{{ include "rj.recurse" (sub (int .) 1) }}{{ else }}{{ .x }}{{ end }}{{ end }}
{{- define "rj.a" }}{{ if gt (int .) 0 }}{{ include "rj.b" (sub (int .) 1) }}{{ else }}{{ .x }}{{ end }}{{ end }}
{{- define "rj.b" }}{{ include "rj.a" . }}{{ end }}
{{- define "rj.walk" -}}
  {{- if and (kindIs "map" .value) (hasKey .value "$tpl") -}}
    {{- tpl (get .value "$tpl") .ctx -}}
  {{- else if kindIs "map" .value -}}
    {{- range $k, $v := .value -}}
      {{- include "rj.walk" (dict "value" $v "ctx" $.ctx) -}}
    {{- end -}}
  {{- end -}}
{{- end }}
{{- define "rj.range" }}{{ range .Values.text }}{{ end }}{{ end }}
{{- define "rj.outer" }}{{ include "rj.range" . }}{{ end }}
