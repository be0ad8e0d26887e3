{{- define "probe" -}}[{{ .a.b }}|{{ .Capabilities.KubeVersion.Version }}|{{ . }}|{{ printf "%v %T" . . }}|{{ kindOf . }}]{{- end -}}
