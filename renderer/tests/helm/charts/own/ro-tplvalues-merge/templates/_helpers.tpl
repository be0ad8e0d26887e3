{{- define "lib.render" -}}
  {{- $value := typeIs "string" .value | ternary .value (.value | toYaml) }}
  {{- if contains "{{" (toString $value) }}
    {{- tpl $value .context }}
  {{- else }}
    {{- $value }}
  {{- end }}
{{- end -}}

{{- define "lib.merge" -}}
{{- $dst := dict -}}
{{- range .values -}}
{{- $dst = include "lib.render" (dict "value" . "context" $.context "scope" $.scope) | fromYaml | merge $dst -}}
{{- end -}}
{{ $dst | toYaml }}
{{- end -}}

{{- define "lib.baseLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "op.labels" -}}
  {{- $versionLabel := dict "app.kubernetes.io/version" (default "latest" .Values.operator.image.tag) -}}
  {{- $staticLabels := dict
        "app.kubernetes.io/component" "operator"
        "app.kubernetes.io/part-of" "acme"
    -}}

  {{- include "lib.merge" (dict
        "values" (list
            (include "lib.baseLabels" . | fromYaml)
            $versionLabel
            $staticLabels
        )
        "context" .
    )
  }}
{{- end }}

{{- define "lib.image" -}}
{{- $registry := .image.registry -}}
{{- if .global }}{{ if .global.imageRegistry }}{{ $registry = .global.imageRegistry }}{{ end }}{{ end -}}
{{- printf "%s/%s:%s" $registry .image.repository (.image.tag | toString) -}}
{{- end -}}

{{- define "lib.pullSecrets" -}}
  {{- $pullSecrets := list }}
  {{- $context := .context }}
  {{- range (($context.Values.global).imagePullSecrets) -}}
    {{- if kindIs "map" . -}}
      {{- $pullSecrets = append $pullSecrets (include "lib.render" (dict "value" .name "context" $context)) -}}
    {{- else -}}
      {{- $pullSecrets = append $pullSecrets (include "lib.render" (dict "value" . "context" $context)) -}}
    {{- end -}}
  {{- end -}}
  {{- range .images -}}
    {{- range .pullSecrets -}}
      {{- $pullSecrets = append $pullSecrets (include "lib.render" (dict "value" . "context" $context)) -}}
    {{- end -}}
  {{- end -}}
  {{- if (not (empty $pullSecrets)) -}}
imagePullSecrets:
    {{- range $pullSecrets | uniq }}
  - name: {{ . }}
    {{- end }}
  {{- end }}
{{- end -}}
