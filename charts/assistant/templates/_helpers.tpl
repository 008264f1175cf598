{{/* Names and labels. */}}
{{- define "assistant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "assistant.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "assistant.rasaName" -}}
{{- printf "%s-rasa" (include "assistant.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "assistant.actionServerName" -}}
{{- printf "%s-action-server" (include "assistant.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "assistant.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "assistant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: pass (dict "root" $ "component" "rasa"). */}}
{{- define "assistant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "assistant.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* repository:tag of an image block; both are required. */}}
{{- define "assistant.image" -}}
{{- $repository := required (printf "%s.repository is empty: set it to the image name" .path) .image.repository -}}
{{- $tag := required (printf "%s.tag is empty: set it to the image tag" .path) (toString .image.tag) -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end }}

{{/* The Secret the chart creates for token values given in values (not for existing Secrets). */}}
{{- define "assistant.tokensSecretName" -}}
{{- printf "%s-tokens" (include "assistant.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* An env entry that reads a token: pass (dict "root" $ "env" "RASA_TOKEN" "token" .Values.rasa.authToken "key" "rasa-token"). */}}
{{- define "assistant.tokenEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
{{- if .token.existingSecret }}
      name: {{ .token.existingSecret }}
      key: {{ .token.existingSecretKey | default "token" }}
{{- else }}
      name: {{ include "assistant.tokensSecretName" .root }}
      key: {{ .key }}
{{- end }}
{{- end }}

{{- define "assistant.hasToken" -}}
{{- if or .existingSecret .value }}true{{ end }}
{{- end }}

{{/* The URL Rasa calls for custom actions. */}}
{{- define "assistant.actionEndpoint" -}}
{{- if .Values.actionServer.externalUrl }}
{{- .Values.actionServer.externalUrl }}
{{- else if .Values.actionServer.enabled }}
{{- printf "http://%s.%s.svc:%d/webhook" (include "assistant.actionServerName" .) .Release.Namespace (int .Values.actionServer.service.port) }}
{{- end }}
{{- end }}

{{/* Checks that fail the render with a message that says what to set. */}}
{{- define "assistant.validate" -}}
{{- $source := .Values.rasa.model.source }}
{{- if not (has $source (list "none" "url" "modelServer" "rasaX")) }}
{{- fail (printf "rasa.model.source is %q; use none, url, modelServer or rasaX" $source) }}
{{- end }}
{{- if and (eq $source "url") (not .Values.rasa.model.url) }}
{{- fail "rasa.model.source is url: set rasa.model.url to the model's download URL" }}
{{- end }}
{{- if and (eq $source "modelServer") (not .Values.rasa.model.modelServer.url) }}
{{- fail "rasa.model.source is modelServer: set rasa.model.modelServer.url" }}
{{- end }}
{{- if and (eq $source "rasaX") (not .Values.rasa.model.rasaX.url) }}
{{- fail "rasa.model.source is rasaX: set rasa.model.rasaX.url (e.g. http://rasa-x-rasa-x.rasa.svc:5002)" }}
{{- end }}
{{- if and (eq $source "rasaX") (not (include "assistant.hasToken" .Values.rasa.model.rasaX.token)) }}
{{- fail "rasa.model.source is rasaX: set rasa.model.rasaX.token.existingSecret (Rasa X's rasax.token)" }}
{{- end }}
{{- end }}
