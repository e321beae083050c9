{{- define "genai.labels" -}}
app: {{ .Chart.Name }}
{{- end -}}
