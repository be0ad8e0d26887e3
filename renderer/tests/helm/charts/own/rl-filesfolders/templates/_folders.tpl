{{- define "rl.binary" -}}
  {{- $binary := has (lower (trimPrefix "." (ext .file))) (list "png" "gz" "zip") -}}
  {{- if not $binary -}}
    {{- $text := .root.Files.Get .file -}}
    {{- $binary = or (contains (printf "%c" 0) $text) (regexMatch "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]" $text) (empty (toYaml $text)) -}}
  {{- end -}}
  {{- $binary -}}
{{- end -}}

{{- define "rl.env" -}}
  {{- $out := dict -}}
  {{- range $line := splitList "\n" . -}}
    {{- $line = trim $line -}}
    {{- if and $line (not (hasPrefix "#" $line)) -}}
      {{- $kv := splitList "=" $line -}}
      {{- if ge (len $kv) 2 -}}
        {{- $_ := set $out (index $kv 0 | trim) (index $kv 1 | replace "\"" "" | replace "'" "" | trim) -}}
      {{- end -}}
    {{- end -}}
  {{- end -}}
  {{- toYaml $out -}}
{{- end -}}

{{- define "rl.folders" -}}
  {{- $root := .root -}}
  {{- $base := trimSuffix "/" .base -}}
  {{- $dirs := dict -}}
  {{- range $path, $_ := $root.Files.Glob (printf "%s/**" $base) -}}
    {{- $_ := set $dirs (dir $path) "" -}}
  {{- end -}}
  {{- $result := dict -}}
  {{- range $dir := keys $dirs | uniq | sortAlpha -}}
    {{- $rel := replace $base "" $dir | trimPrefix "/" -}}
    {{- $name := regexReplaceAll "\\W+" (clean $rel) "-" -}}
    {{- $over := dig $name dict $.overrides -}}
    {{- $text := dict -}}
    {{- $bin := dict -}}
    {{- range $path, $_ := $root.Files.Glob (printf "%s/*" $dir) -}}
      {{- $file := base $path -}}
      {{- $fo := dig "files" $file nil $over -}}
      {{- $content := $root.Files.Get $path -}}
      {{- $isBin := false -}}
      {{- if and (ne $fo nil) (hasKey $fo "binary") -}}
        {{- $isBin = $fo.binary -}}
      {{- else -}}
        {{- $isBin = eq (include "rl.binary" (dict "root" $root "file" $path)) "true" -}}
      {{- end -}}
      {{- if $isBin -}}
        {{- $bin = merge $bin (dict $file (b64enc $content)) -}}
      {{- else if $fo.escaped -}}
        {{- $text = merge $text (dict $file (replace "{{" "{{ `{{` }}" $content)) -}}
      {{- else if $fo.env -}}
        {{- $text = merge $text (include "rl.env" $content | fromYaml) -}}
      {{- else -}}
        {{- $text = merge $text (dict $file $content) -}}
      {{- end -}}
    {{- end -}}
    {{- $_ := set $result $name (dict "text" $text "binary" $bin "annotations" (dig "annotations" dict $over)) -}}
  {{- end -}}
  {{- toYaml $result -}}
{{- end -}}

{{- define "rl.glob" -}}
  {{- range $path, $_ := (index . 0).Files.Glob (index . 1) }}{{ $path }},{{ end -}}
{{- end -}}
