{{- /* Applies one edit to a JSON copy of .doc, walking a /-separated path. */ -}}
{{- define "jw.apply" -}}
{{- $root := dict "r" (fromJson (toJson .doc)) -}}
{{- $parent := $root -}}
{{- $key := "r" -}}
{{- $fixups := list -}}
{{- $parts := splitList "/" .edit.at | rest -}}
{{- range $i, $raw := $parts -}}
  {{- $p := replace "~1" "/" $raw | replace "~0" "~" -}}
  {{- $cur := index $parent $key -}}
  {{- if kindIs "slice" $cur -}}
    {{- $m := dict -}}
    {{- range $j, $v := $cur }}{{ $_ := set $m (toString $j) $v }}{{ end -}}
    {{- $_ := set $parent $key $m -}}
    {{- $fixups = prepend $fixups (dict "parent" $parent "key" $key "len" (len $cur)) -}}
    {{- $cur = $m -}}
  {{- end -}}
  {{- if lt $i (sub (len $parts) 1) -}}
    {{- $parent = $cur -}}
    {{- $key = $p -}}
  {{- else -}}
    {{- if $.edit.drop -}}
      {{- $_ := unset $cur $p -}}
    {{- else if eq $p "-" -}}
      {{- $_ := set $cur (toString (len $cur)) $.edit.put -}}
    {{- else -}}
      {{- $_ := set $cur $p $.edit.put -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- range $fixups -}}
  {{- $m := index .parent .key -}}
  {{- $l := list -}}
  {{- range $n := until 100 -}}
    {{- if hasKey $m (toString $n) }}{{ $l = append $l (index $m (toString $n)) }}{{ end -}}
  {{- end -}}
  {{- $_ := set .parent .key $l -}}
{{- end -}}
{{- toJson $root.r -}}
{{- end -}}
