{{/*
Named templates of the replicad chart.  Each resource template includes
"replicad.validate" through "replicad.labels", so a bad combination of values
stops the render with a message instead of installing something broken.
*/}}

{{- define "replicad.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release name when it already contains the chart name (so `helm install
replicad` gives "replicad", the name the development certificates carry),
else RELEASE-NAME.
*/}}
{{- define "replicad.fullname" -}}
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

{{- define "replicad.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "replicad.selectorLabels" -}}
app.kubernetes.io/name: {{ include "replicad.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Common labels; every resource carries them. */}}
{{- define "replicad.labels" -}}
{{- include "replicad.validate" . -}}
helm.sh/chart: {{ include "replicad.chart" . }}
{{ include "replicad.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: replicad
{{- end }}

{{- define "replicad.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "replicad.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create=false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The core's HOME namespace (REPLICAD_NAMESPACE): where the pins
ConfigMap and the Lease live.  The release namespace, or targetNamespace.name
(kept from before issue #15).  It need not be one of the served namespaces. */}}
{{- define "replicad.targetNamespace" -}}
{{- default .Release.Namespace .Values.targetNamespace.name }}
{{- end }}

{{/* The namespaces the core serves (REPLICAD_NAMESPACES), comma-joined:
targetNamespaces, or the home namespace alone when that is empty.  The first
is the default namespace (the gateway's routes without one).  Each gets a
Role + RoleBinding with the Deployment/scale/HPA/Event grants. */}}
{{- define "replicad.servedNamespaces" -}}
{{- if .Values.targetNamespaces }}
{{- join "," .Values.targetNamespaces }}
{{- else }}
{{- include "replicad.targetNamespace" . }}
{{- end }}
{{- end }}

{{/* The ClusterRole (and its binding) of watchAllNamespaces: cluster-scoped
names, so the release namespace is part of them. */}}
{{- define "replicad.clusterRoleName" -}}
{{- printf "%s:%s:watch-all" .Release.Namespace (include "replicad.fullname" .) }}
{{- end }}

{{/* Pins: the ConfigMap the core keeps them in, and the Lease of the
replica that reconciles (both in the target namespace, made by the core). */}}
{{- define "replicad.pinsConfigMap" -}}
{{- default (printf "%s-pins" (include "replicad.fullname" .)) .Values.pins.configMapName }}
{{- end }}
{{- define "replicad.pinsLease" -}}
{{- default (printf "%s-reconciler" (include "replicad.fullname" .)) .Values.pins.leaseName }}
{{- end }}

{{/* image reference: dict "root" $ "component" "core"|"gateway" */}}
{{- define "replicad.image" -}}
{{- $img := index .root.Values.image .component }}
{{- $repo := $img.repository }}
{{- if .root.Values.image.registry }}
{{- $repo = printf "%s/%s" (trimSuffix "/" .root.Values.image.registry) $repo }}
{{- end }}
{{- if $img.digest }}
{{- printf "%s@%s" $repo $img.digest }}
{{- else }}
{{- printf "%s:%s" $repo (.root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The Secret the gateway's server certificate, key (and client CA) come from. */}}
{{- define "replicad.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "replicad.fullname" .) }}
{{- end }}
{{- end }}

{{/* "true" when the client CA comes from its own secret or ConfigMap. */}}
{{- define "replicad.separateClientCA" -}}
{{- if or .Values.tls.clientCAFrom.secret .Values.tls.clientCAFrom.configMap }}true{{ end }}
{{- end }}

{{/* "true" when the gateway checks a CRL (tls.clientCRL or tls.clientCRLFrom). */}}
{{- define "replicad.clientCRL" -}}
{{- if or .Values.tls.clientCRL .Values.tls.clientCRLFrom.secret .Values.tls.clientCRLFrom.configMap }}true{{ end }}
{{- end }}

{{/* "true" when the chart itself makes the TLS Secret from PEM values. */}}
{{- define "replicad.inlineTLS" -}}
{{- if not (or .Values.tls.existingSecret .Values.tls.certManager.enabled) }}true{{ end }}
{{- end }}

{{/*
Termination timing (see values.yaml "lifecycle").  The gateway sleeps S
seconds in preStop (kube-proxies drop the pod), then drains for up to D.
The core must outlive that: it sleeps S + D + 2, then drains its own
in-flight answers (at most 10 s, core/README.md "Signals").  The grace
period covers all of it plus a margin, so nothing is SIGKILLed mid-answer.
*/}}
{{/*
"true" when preStop uses the kubelet's sleep action: preStopMode sleep, or
auto on Kubernetes 1.30 or later (PodLifecycleSleepAction is beta and on
from 1.30, alpha and off in 1.29: KEP-3960; the API server would reject
the Deployment).  Below that, auto runs /bin/sleep in the container.  The
"-0" lets pre-release versions such as v1.30.2-gke.1 compare as 1.30.
*/}}
{{- define "replicad.preStopSleep" -}}
{{- $mode := .Values.lifecycle.preStopMode }}
{{- if or (eq $mode "sleep") (and (eq $mode "auto") (semverCompare ">=1.30.0-0" .Capabilities.KubeVersion.Version)) }}true{{ end }}
{{- end }}

{{- define "replicad.gatewayPreStopSeconds" -}}
{{- .Values.lifecycle.preStopSleepSeconds | int }}
{{- end }}

{{- define "replicad.corePreStopSeconds" -}}
{{- add .Values.lifecycle.preStopSleepSeconds .Values.config.drainTimeout 2 }}
{{- end }}

{{- define "replicad.terminationGracePeriodSeconds" -}}
{{- add (include "replicad.corePreStopSeconds" . | int) 10 5 }}
{{- end }}

{{/* Refuse combinations of values that would install something broken. */}}
{{- define "replicad.validate" -}}
{{- $tls := .Values.tls }}
{{- if and (not $tls.existingSecret) (not $tls.certManager.enabled) (not $tls.certificate) }}
{{- fail "TLS: set tls.existingSecret, or tls.certManager.enabled=true, or tls.certificate + tls.privateKey + tls.clientCA (charts/README.md, \"TLS\")" }}
{{- end }}
{{- if and (include "replicad.inlineTLS" .) (not $tls.privateKey) }}
{{- fail "TLS: tls.certificate is set but tls.privateKey is empty" }}
{{- end }}
{{- if and (include "replicad.inlineTLS" .) (not $tls.clientCA) (not (include "replicad.separateClientCA" .)) }}
{{- fail "TLS: the gateway needs the client CA: set tls.clientCA or tls.clientCAFrom" }}
{{- end }}
{{- if and $tls.certManager.enabled (not $tls.existingSecret) (not $tls.certManager.issuerRef.name) }}
{{- fail "TLS: tls.certManager.enabled needs tls.certManager.issuerRef.name" }}
{{- end }}
{{- /*
The client CA defaults to the TLS secret's ca.crt, which a certificate from
an ACME issuer (Let's Encrypt) does not have: the kubelet would then never
mount the volume and the pod would stay in ContainerCreating.  Where helm
can see the cluster (install, upgrade; not template or lint, whose lookup
finds nothing), refuse that with a message instead.
*/}}
{{- if not (include "replicad.separateClientCA" .) }}
{{- if $tls.existingSecret }}
{{- $s := lookup "v1" "Secret" .Release.Namespace $tls.existingSecret }}
{{- if and $s (not (hasKey ($s.data | default dict) "ca.crt")) }}
{{- fail (printf "TLS: Secret %s has no ca.crt (certificates from an ACME issuer such as Let's Encrypt have none), and the gateway needs the CA of your client certificates: set tls.clientCAFrom.secret or tls.clientCAFrom.configMap (and tls.clientCAFrom.key) to it" $tls.existingSecret) }}
{{- end }}
{{- else if and $tls.certManager.enabled (eq $tls.certManager.issuerRef.group "cert-manager.io") }}
{{- $ref := $tls.certManager.issuerRef }}
{{- $iss := lookup "cert-manager.io/v1" $ref.kind (ternary "" .Release.Namespace (eq $ref.kind "ClusterIssuer")) $ref.name }}
{{- if hasKey ($iss.spec | default dict) "acme" }}
{{- fail (printf "TLS: %s %s is an ACME issuer: its certificates have no ca.crt, and the gateway needs the CA of your client certificates: set tls.clientCAFrom.secret or tls.clientCAFrom.configMap (and tls.clientCAFrom.key) to it" $ref.kind $ref.name) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $tls.clientCRL (or $tls.clientCRLFrom.secret $tls.clientCRLFrom.configMap) }}
{{- fail "TLS: set tls.clientCRL or tls.clientCRLFrom, not both" }}
{{- end }}
{{- if eq (int .Values.core.uid) (int .Values.gateway.uid) }}
{{- fail "core.uid and gateway.uid must differ: the core's socket tells them apart by uid" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (not .Values.networkPolicy.apiServer.cidrs) }}
{{- fail "networkPolicy.apiServer.cidrs is empty: the core could not reach the API server. Set it to the API server's addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes), or networkPolicy.enabled=false" }}
{{- end }}
{{- /*
targetNamespaces (issue #15): each a DNS-1123 label, no duplicates, at most
32 (the core's CORE_MAX_NAMESPACES; it refuses more at start).  The schema
says the same; this stops renderers that do not apply it.
*/}}
{{- $tns := .Values.targetNamespaces | default list }}
{{- if not (kindIs "slice" $tns) }}
{{- fail "targetNamespaces must be a list of namespace names" }}
{{- end }}
{{- if gt (len $tns) 32 }}
{{- fail (printf "targetNamespaces: %d namespaces, at most 32 (the core serves no more)" (len $tns)) }}
{{- end }}
{{- $seen := dict }}
{{- range $tns }}
{{- $n := toString . }}
{{- if or (gt (len $n) 63) (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $n)) }}
{{- fail (printf "targetNamespaces: %q is not a namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)" $n) }}
{{- end }}
{{- if hasKey $seen $n }}
{{- fail (printf "targetNamespaces: %q is listed twice" $n) }}
{{- end }}
{{- $_ := set $seen $n true }}
{{- end }}
{{- if and .Values.targetNamespace.create (or (not .Values.targetNamespace.name) (eq .Values.targetNamespace.name .Release.Namespace)) }}
{{- fail "targetNamespace.create needs targetNamespace.name, other than the release namespace (helm install --create-namespace makes that one)" }}
{{- end }}
{{- end }}
