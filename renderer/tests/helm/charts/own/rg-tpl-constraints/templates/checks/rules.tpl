{{/*
Checks run as a template of their own: this file's name has no leading underscore.
*/}}
{{- if not (has .Values.mode .Values.allowed) }}
  {{- $msg := printf "[constraints] %s %s"
      "mode must be one of the allowed values,"
      (printf "got %q" .Values.mode)
  -}}
  {{ printf "\n%s" $msg | trimSuffix "\n" | fail }}
{{- end }}
{{- define "constraints.renamed" }}
  {{- if .when }}
    {{- $msg := printf "[constraints] key %q is now %q." .from .to -}}
    {{ printf "\n%s" $msg | fail }}
  {{- end }}
{{- end -}}
{{ include "constraints.renamed" (dict
  "when" (eq (kindOf .Values.backend.url) "string")
  "from" "backend.url (string)"
  "to" "backend.url (map)"
) }}
{{ include "constraints.renamed" (dict "when" (.Values.old).name "from" "old.name" "to" "new.name") }}
{{- define "constraints.notice" -}}
{{- $msg := `
[constraints][notice]
set these values:
` -}}
{{- range .Values.warnAbout }}
{{- $msg = cat "  " $msg "\n" . }}
{{- end }}
{{- printf "\n%s" $msg | trimSuffix "\n" }}
{{- end }}
