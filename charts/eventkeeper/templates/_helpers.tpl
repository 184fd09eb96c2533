{{/* Names and labels shared by every template. */}}

{{- define "eventkeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eventkeeper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "eventkeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "eventkeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventkeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "eventkeeper.commonLabels" -}}
helm.sh/chart: {{ include "eventkeeper.chart" . }}
{{ include "eventkeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: eventkeeper
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of the emitter's objects. */}}
{{- define "eventkeeper.labels" -}}
{{ include "eventkeeper.commonLabels" . }}
app.kubernetes.io/component: emitter
{{- end -}}

{{- define "eventkeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "eventkeeper.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Lease the leader holds and checkpoints on. */}}
{{- define "eventkeeper.leaseName" -}}
{{- default "eventkeeper" .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* registry/repository@digest, or :tag (default appVersion); global.imageRegistry wins. */}}
{{- define "eventkeeper.image" -}}
{{- $registry := default .Values.image.registry (.Values.global).imageRegistry -}}
{{- $repository := .Values.image.repository -}}
{{- if $registry -}}
{{- $repository = printf "%s/%s" (trimSuffix "/" $registry) $repository -}}
{{- end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The alert metrics' selector: this release's pods, however Prometheus scraped them. */}}
{{- define "eventkeeper.alertSelector" -}}
namespace="{{ .Release.Namespace }}",pod=~"{{ include "eventkeeper.fullname" . }}-.*"
{{- end -}}

{{/* Settings that cannot be expressed in values.schema.json. */}}
{{- define "eventkeeper.validate" -}}
{{- if not .Values.clusterName -}}
{{- fail "clusterName is required: set it to the EKS cluster name (--set clusterName=NAME); it names the Container Insights log group and is written into every record" -}}
{{- end -}}
{{- if and .Values.serviceMonitor.enabled .Values.podMonitor.enabled -}}
{{- fail "serviceMonitor.enabled and podMonitor.enabled: choose one, or Prometheus scrapes every replica twice" -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true: without a leader every replica would emit every event" -}}
{{- end -}}
{{- end -}}
