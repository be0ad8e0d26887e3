{{- define "commonlib.capabilities.kubeVersion" -}}
{{- default .Capabilities.KubeVersion.Version .Values.kubeVersion -}}
{{- end -}}

{{- define "commonlib.capabilities.policy.apiVersion" -}}
{{- if semverCompare "<1.21-0" (include "commonlib.capabilities.kubeVersion" .) -}}
{{- print "policy/v1beta1" -}}
{{- else -}}
{{- print "policy/v1" -}}
{{- end -}}
{{- end -}}

{{- define "commonlib.capabilities.hpa.apiVersion" -}}
{{- if semverCompare "<1.23-0" (include "commonlib.capabilities.kubeVersion" .) -}}
{{- print "autoscaling/v2beta2" -}}
{{- else -}}
{{- print "autoscaling/v2" -}}
{{- end -}}
{{- end -}}

{{- define "commonlib.capabilities.supportsHelmVersion" -}}
{{- if .Capabilities.HelmVersion -}}true{{- end -}}
{{- end -}}
