{{ include "engine.fn" . }}{{ define "nested-define" }}nested-content{{ end }} {{ include "nested-define" . }}
