{{- define "shared" -}}parent value{{- end -}}
{{- define "engine.fn" -}}fn-from-parent{{- end -}}
{{- define "partial" }}original-in-partial{{ end -}}
{{- define "overlook" }}{{ printf "work and play\n" }}{{ end -}}
