{{/* Test fixture helpers for the dot-ai chart. */}}

{{- define "dot-ai.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name: the release name when it contains "dot-ai", otherwise "<release>-dot-ai";
at most 63 characters, without a trailing "-".
*/}}
{{- define "dot-ai.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dot-ai.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dot-ai.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dot-ai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dot-ai.labels" -}}
helm.sh/chart: {{ include "dot-ai.chart" . }}
{{ include "dot-ai.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Checks on combinations of values; templates/validate.yaml includes this, so a failure stops the whole render. */}}
{{- define "dot-ai.validate" -}}
{{- if and .Values.gateway.name .Values.gateway.create -}}
{{- fail "dot-ai: gateway.name (reference an existing Gateway) and gateway.create (create a Gateway) are mutually exclusive; set only one of them" -}}
{{- end -}}
{{- if ne .Values.deployment.method "standard" -}}
{{- fail (printf "dot-ai fixture: deployment.method %q is not implemented by this test fixture chart; only \"standard\" is" (toString .Values.deployment.method)) -}}
{{- end -}}
{{- end -}}

{{/* Name of the bundled Qdrant's Deployment and Service (a DNS label, so 63 characters at most). */}}
{{- define "dot-ai.qdrantName" -}}
{{- printf "%s-qdrant" (include "dot-ai.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dot-ai.qdrantUrl" -}}
{{- if .Values.qdrant.enabled -}}
{{- printf "http://%s:6333" (include "dot-ai.qdrantName" .) -}}
{{- else -}}
{{- .Values.qdrant.external.url -}}
{{- end -}}
{{- end -}}

{{/* Whether any secret value was passed, so the chart renders the Secret itself ("true" or ""). */}}
{{- define "dot-ai.renderSecret" -}}
{{- $s := .Values.secrets -}}
{{- if or $s.auth.token $s.anthropic.apiKey $s.openai.apiKey $s.google.apiKey $s.xai.apiKey -}}
true
{{- end -}}
{{- end -}}

{{/* The bundled Qdrant's pods carry a different name label, so the server's selector never matches them. */}}
{{- define "dot-ai.qdrantSelectorLabels" -}}
app.kubernetes.io/name: qdrant
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
