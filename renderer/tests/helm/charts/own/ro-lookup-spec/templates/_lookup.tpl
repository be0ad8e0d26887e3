{{/* Keep what the live Service already has. */}}
{{- define "op.serviceSpec" -}}
{{- $service := lookup "v1" "Service" .Values.installation.namespace "op-webhook" -}}
{{- if $service -}}
{{ if $service.spec.clusterIP -}}
clusterIP: {{ $service.spec.clusterIP }}
{{- end }}
{{ if $service.spec.clusterIPs -}}
clusterIPs:
  {{ $service.spec.clusterIPs }}
{{- end }}
{{- end -}}
ports:
- port: 443
  targetPort: {{ .Values.webhookPort }}
{{- end -}}

{{- define "op.secretData" -}}
{{- $secret := lookup "v1" "Secret" .Values.installation.namespace "op-certs" -}}
{{- if $secret -}}
data:
{{- range $k, $v := $secret.data }}
  {{ $k }}: {{ $v }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "op.saSecrets" -}}
{{- $sa := lookup "v1" "ServiceAccount" .Values.installation.namespace .name -}}
{{- if $sa -}}
secrets:
{{- range $v := $sa.secrets }}
- name: {{ $v.name }}
{{- end }}
{{- end }}
{{- end -}}
