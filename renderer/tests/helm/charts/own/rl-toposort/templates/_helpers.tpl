{{- /* Kahn's algorithm: .graph maps a node to the nodes it waits for; the
order is written back into .out through the dict the caller passed, one
recursion level per node, and a cycle fails with the rest of the graph. */ -}}
{{- define "rl.order" -}}
  {{- $g := .graph -}}
  {{- if empty $g -}}
    {{- $_ := set . "out" list -}}
  {{- else -}}
    {{- $free := list -}}
    {{- range $node, $needs := $g -}}
      {{- if empty $needs -}}{{- $free = append $free $node -}}{{- end -}}
    {{- end -}}
    {{- if empty $free -}}
      {{- fail (printf "cycle among:\n%s" (toYaml $g)) -}}
    {{- end -}}
    {{- $first := first $free -}}
    {{- $_ := unset $g $first -}}
    {{- range $node, $needs := $g -}}
      {{- $_ := set $g $node (without $needs $first) -}}
    {{- end -}}
    {{- $rest := dict "graph" $g "out" list -}}
    {{- include "rl.order" $rest -}}
    {{- $_ = set . "out" (concat (list $first) $rest.out) -}}
  {{- end -}}
{{- end -}}

{{- define "rl.withKey" -}}
  {{- $out := dict -}}
  {{- range $k, $item := .map -}}
    {{- if not (empty (dig $.key nil $item)) -}}{{- $_ := set $out $k $item -}}{{- end -}}
  {{- end -}}
  {{- toYaml $out -}}
{{- end -}}

{{- define "rl.keepNonNull" -}}
  {{- $default := required "a default is needed" .default -}}
  {{- if eq nil .value -}}{{- toYaml $default -}}{{- else -}}{{- toYaml .value -}}{{- end -}}
{{- end -}}

{{- define "rl.flag" -}}
  {{- $v := true -}}
  {{- if hasKey .data "expand" -}}
    {{- if kindIs "invalid" .data.expand -}}
      {{- fail (printf "%s: [expand] in [%s] is null" .caller .name) -}}
    {{- end -}}
    {{- $v = .data.expand -}}
  {{- end -}}
  {{- if kindIs "string" $v -}}
    {{- $v = tpl $v .root -}}
    {{- if eq $v "true" -}}{{- $v = true -}}{{- else if eq $v "false" -}}{{- $v = false -}}{{- end -}}
  {{- end -}}
  {{- $v -}}
{{- end -}}
