{{- /* Library flow of bjw-s common 1.x-3.x (reconstructed from its idioms):
  the library's own values come as .Values.lib; they are deep-copied, the
  user's values (all but "lib") are merged over them with mustMergeOverwrite
  and the result replaces .Values on the shared root context. */ -}}
{{- define "lib.all" -}}
  {{- if .Values.lib -}}
    {{- $defaults := deepCopy .Values.lib -}}
    {{- $user := deepCopy (omit .Values "lib") -}}
    {{- $_ := set . "Values" (deepCopy (mustMergeOverwrite $defaults $user)) -}}
  {{- end -}}
  {{- range $id, $ctrl := .Values.controllers }}
    {{- include "lib.deployment" (dict "root" $ "id" $id "ctrl" $ctrl) | nindent 0 }}
  {{- end }}
{{- end -}}

{{- /* Kahn's topological sort, the recursive-include form bjw-s uses:
  the result comes back through a key of the dict argument. */ -}}
{{- define "lib.kahn" -}}
  {{- $graph := .graph -}}
  {{- if empty $graph -}}
    {{- $_ := set . "out" list -}}
  {{- else -}}
    {{- $ready := list -}}
    {{- range $node, $edges := $graph -}}
      {{- if empty $edges -}}{{- $ready = append $ready $node -}}{{- end -}}
    {{- end -}}
    {{- if empty $ready -}}
      {{- fail (printf "cyclic graph:\n%s" (toYaml $graph)) -}}
    {{- end -}}
    {{- $n := first $ready -}}
    {{- $_ := unset $graph $n -}}
    {{- range $node, $edges := $graph -}}
      {{- $_ := set $graph $node (without $edges $n) -}}
    {{- end -}}
    {{- $args := dict "graph" $graph "out" list -}}
    {{- include "lib.kahn" $args -}}
    {{- $_ = set . "out" (concat (list $n) $args.out) -}}
  {{- end -}}
{{- end -}}

{{- define "lib.env" -}}
  {{- $graph := dict -}}
  {{- range $name, $var := .env -}}
    {{- if and (kindIs "map" $var) (not (empty (dig "dependsOn" nil $var))) -}}
      {{- if kindIs "string" $var.dependsOn -}}
        {{- $_ := set $graph $name (list $var.dependsOn) -}}
      {{- else -}}
        {{- $_ := set $graph $name $var.dependsOn -}}
      {{- end -}}
    {{- else -}}
      {{- $_ := set $graph $name list -}}
    {{- end -}}
  {{- end -}}
  {{- $args := dict "graph" $graph "out" list -}}
  {{- include "lib.kahn" $args -}}
  {{- $out := list -}}
  {{- range $name := $args.out -}}
    {{- $item := dict "name" $name -}}
    {{- $v := get $.env $name -}}
    {{- if kindIs "map" $v -}}
      {{- /* a new variable in the inner scope, but merge fills $item itself */ -}}
      {{- $item := merge $item (omit $v "dependsOn") -}}
    {{- else -}}
      {{- $_ := set $item "value" (toString $v) -}}
    {{- end -}}
    {{- $out = append $out $item -}}
  {{- end -}}
  {{- toYaml $out -}}
{{- end -}}

{{- define "lib.mounts" -}}
  {{- range $id, $p := .root.Values.persistence -}}
    {{- $path := printf "/%s" $id -}}
    {{- with $p.mountPath -}}{{- $path = . -}}{{- end -}}
    {{- range $p.mounts -}}
      {{- /* an assignment inside with changes the outer variable for later mounts */ -}}
      {{- with .path -}}{{- $path = . -}}{{- end }}
- name: {{ $id }}
  mountPath: {{ $path }}
      {{- with .subPath }}
  subPath: {{ . }}
      {{- end }}
    {{- else }}
- name: {{ $id }}
  mountPath: {{ $path }}
    {{- end -}}
  {{- end -}}
{{- end -}}

{{- define "lib.ports" -}}
  {{- range $name, $port := . }}
  {{- /* a pipeline may end in "|" before the closing delimiter (bjw-s common 1.x) */}}
  {{- if default true $port.enabled | }}
- name: {{ $name }}
  containerPort: {{ $port.port }}
  {{- end }}
  {{- end -}}
{{- end -}}

{{- define "lib.deployment" -}}
{{- $root := .root -}}
{{- $ctrl := mustDeepCopy .ctrl -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-%s" $root.Release.Name .id }}
spec:
  replicas: {{ $ctrl.replicas }}
  template:
    spec:
      {{- with $root.Values.probes.grace }}
      terminationGracePeriodSeconds: {{ . | trim }}
      {{- end }}
      containers:
      {{- range $cid, $c := $ctrl.containers }}
        - name: {{ $cid }}
          image: {{ printf "%s:%s" $c.image.repository (toString $c.image.tag) }}
          env: {{- include "lib.env" $c | nindent 12 }}
          ports: {{- include "lib.ports" $c.ports | nindent 12 }}
          volumeMounts: {{- include "lib.mounts" (dict "root" $root) | nindent 12 }}
      {{- end }}
{{- end -}}
