{{- define "rk.components" -}}
{{- $all := dict }}
{{- if .Values.split }}
{{-   range .Values.use }}
{{-     $all = mustMergeOverwrite (deepCopy $all) (index $.Values.sets . | default dict) }}
{{-   end }}
{{-   range $k, $v := .Values.overrides | default dict }}
{{-     if hasKey $all $k }}
{{-       $_ := set $all $k (mustMergeOverwrite (deepCopy (index $all $k)) $v) }}
{{-     end }}
{{-   end }}
{{- else }}
{{-   $all = mustMergeOverwrite (deepCopy $all) (.Values.overrides | default dict) }}
{{- end }}
{{- range $k, $v := $all }}
{{- $v := set $v "name" (printf "%s-%s" $.Release.Name $k) }}
{{$k}}: {{ $v | toJson }}
{{- end }}
{{- if eq (len $all) 0 }}
all: {kind: "single", name: "{{ $.Release.Name }}"}
{{- end }}
{{- end }}
