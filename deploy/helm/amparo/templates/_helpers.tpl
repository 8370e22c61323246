{{- define "amparo.fullname" -}}
{{- printf "%s-amparo" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "amparo.labels" -}}
app.kubernetes.io/name: amparo
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
