{{- define "sf.defaults" -}}
secrets:
  envVars:
    enabled: true
  files:
    enabled: true
    mount: {}
{{- end }}

{{- define "sf.secrets" -}}
{{ $ctx := .ctx -}}
{{ $defaults := include "sf.defaults" . | fromYaml -}}
{{ $secrets := mustMergeOverwrite $defaults.secrets .secrets -}}
{{- range $postfix, $content := $secrets }}
{{ $payload := include "sf.payload" (dict "postfix" $postfix "content" $content "ctx" $ctx) | fromYaml -}}
{{ if and $content.enabled $payload -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ printf "%s-%s" $ctx.Release.Name ($postfix | kebabcase) }}
  {{- with $content.annotations }}
  annotations: {{ tpl (. | toYaml) $ctx | nindent 4 }}
  {{- end }}
{{- with $content.type }}
type: {{ tpl (. | toYaml) $ctx }}
{{- end }}
{{ $payload | toYaml }}
---
{{- end }}
{{- end }}
{{- end }}

{{- define "sf.payload" -}}
{{ $content := .content -}}
{{ $ctx := .ctx -}}
{{ if eq .postfix "envVars" -}}
{{ if $content.data -}}
{{ print "data:" }}
{{ range $k, $v := $content.data -}}
{{ printf "%s: %s" (tpl $k $ctx) ((tpl $v $ctx) | b64enc) | nindent 2 }}
{{- end }}
{{- end }}
{{ else if eq .postfix "files" -}}
{{ if $content.data -}}
{{ print "data:" }}
{{ range $k, $v := $content.data -}}
{{ $filepath := tpl $k $ctx -}}
{{ printf "%s: |" ($filepath | replace "/" "_" | trimPrefix "_") | indent 2 }}
{{ if mustRegexMatch "(.+)(\\.yaml|\\.yml)$" (base $filepath) -}}
{{ (tpl ($v | toYaml) $ctx | b64enc) | indent 4 }}
{{ else if mustRegexMatch "(.+)(\\.json)$" (base $filepath) -}}
{{ (tpl ($v | toJson) $ctx | b64enc) | indent 4 }}
{{ else if mustRegexMatch "(.+)(\\.toml)$" (base $filepath) -}}
{{ (tpl ($v | toToml) $ctx | b64enc) | indent 4 }}
{{ else -}}
{{ (tpl ($v | toString) $ctx | b64enc) | indent 4 }}
{{ end -}}
{{- end }}
{{- end }}
{{- if $content.stringData }}
{{ fail "secrets.files does not support 'stringData'" }}
{{- end }}
{{ else -}}
{{- with $content.data }}
data: {{ tpl (. | toYaml) $ctx | nindent 2 }}
{{- end }}
{{- with $content.stringData }}
stringData: {{ tpl (. | toYaml) $ctx | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sf.mounts" -}}
{{ $mounts := list -}}
{{ range $path, $_ := .files.data -}}
{{ $default := printf "name: files\nmountPath: %s\nsubPath: %s" $path (base $path) | fromYaml -}}
{{ $mounts = append $mounts (mustMergeOverwrite $default $.files.mount) -}}
{{- end }}
volumeMounts: {{ $mounts | toYaml | nindent 2 }}
{{- end }}
