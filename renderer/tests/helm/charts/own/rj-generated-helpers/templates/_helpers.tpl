{{- /* Helpers written in the style of templates generated from Go code:
every helper returns JSON {"r": value} that the caller reads back with
fromJson, loops run once with break as an early return, and numbers pass
through float64/int64 conversions. */}}
{{- define "rj.quantity" -}}
{{- $q := index .a 0 -}}
{{- range $_ := list 1 -}}
{{- if typeIs "float64" $q -}}
{{- dict "r" (list $q 1.0) | toJson -}}
{{- break -}}
{{- end -}}
{{- $unit := regexFind "(k|m|M|G|T|P|Ki|Mi|Gi|Ti|Pi)$" $q -}}
{{- $num := float64 (substr (0 | int) (sub (len $q) (len $unit) | int) $q) -}}
{{- $scales := dict "" 1.0 "m" 0.001 "k" (1000 | int) "M" (1000000 | int) "G" (1000000000 | int) "T" (1000000000000 | int) "P" (1000000000000000 | int) "Ki" (1024 | int) "Mi" (1048576 | int) "Gi" (1073741824 | int) "Ti" (1099511627776 | int) "Pi" (1125899906842624 | int) -}}
{{- dict "r" (list $num (index $scales $unit | float64)) | toJson -}}
{{- end -}}
{{- end -}}

{{- define "rj.value" -}}
{{- $p := get (include "rj.quantity" . | fromJson) "r" -}}
{{- dict "r" (int64 (ceil (mulf (index $p 0) (index $p 1)))) | toJson -}}
{{- end -}}

{{- define "rj.milli" -}}
{{- $p := get (include "rj.quantity" . | fromJson) "r" -}}
{{- dict "r" (int64 (ceil ((mulf (mulf (index $p 0) 1000.0) (index $p 1)) | float64))) | toJson -}}
{{- end -}}

{{- define "rj.duration" -}}
{{- $s := index .a 0 -}}
{{- $units := dict "s" (1000000000 | int64) "m" (60000000000 | int64) "h" (3600000000000 | int64) -}}
{{- $total := 0 | int64 -}}
{{- range $_ := list 0 0 0 -}}
{{- if eq $s "" "0" -}}{{- break -}}{{- end -}}
{{- $n := regexFind `^\d+` $s -}}
{{- $s = substr (len $n) -1 $s -}}
{{- $u := regexFind `^(h|m|s)` $s -}}
{{- $s = substr (len $u) -1 $s -}}
{{- $total = add $total (mul (int64 $n) (ternary (index $units $u) 0 (hasKey $units $u))) | int64 -}}
{{- end -}}
{{- dict "r" $total | toJson -}}
{{- end -}}
