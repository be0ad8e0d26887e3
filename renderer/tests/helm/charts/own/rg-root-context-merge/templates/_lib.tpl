{{- define "rm.part" -}}
{{- $leaf := .Template.Name | base | trimSuffix ".yaml" -}}
{{- $dir := .Template.Name | dir | base | trimPrefix "templates" -}}
{{- print (.partPrefix | default "") (.partName | default $dir | default $leaf) -}}
{{- end }}
{{- define "rm.labels" -}}
part: {{ include "rm.part" . }}
release: {{ .Release.Name }}
{{- if not .selectorOnly }}
chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
{{- end }}
{{- end }}
{{- define "rm.selector" -}}
{{ include "rm.labels" (merge (dict "selectorOnly" true) .) }}
{{- end }}
{{- define "rm.secrets" -}}
{{- $acc := dict "items" (concat .own .root.Values.pull.list | uniq) }}
{{- if .root.Values.pull.inject }}{{ $_ := set $acc "items" (append $acc.items "injected" | uniq) }}{{ end }}
{{- $_ := set $acc "out" list }}
{{- range $acc.items }}
{{- $_ := set $acc "out" (append $acc.out (ternary (dict "name" .) . (kindIs "string" .))) }}
{{- end }}
{{- if $acc.out }}{{ $acc.out | toJson }}{{ end }}
{{- end }}
{{- define "rm.env" -}}
{{- range $k, $v := . }}
{{- if kindIs "map" $v }}
{{- merge (dict) $v (dict "name" $k) | list | toYaml | println }}
{{- else -}}
- name: {{ $k | quote }}
  value: {{ $v | quote | println }}
{{- end }}
{{- end }}
{{- end }}
{{- define "rm.workload" -}}
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .Release.Name }}-{{ include "rm.part" . }}
  labels:
    {{- include "rm.labels" . | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include "rm.selector" . | nindent 6 }}
  template:
    spec:
      {{- with include "rm.secrets" (dict "root" . "own" .Values.component.secrets) }}
      imagePullSecrets: {{ . }}
      {{- end }}
      containers:
        - name: c
          env:
            {{- include "rm.env" .Values.env | trimSuffix "\n" | nindent 12 }}
{{- end }}
{{- define "rm.workload.pinned" -}}
{{- include "rm.workload" (merge (dict "partName" "pinned" "Chart" (dict "Name" "fixed" "Version" "0")) .) -}}
{{- end }}
