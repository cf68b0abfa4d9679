package provider

// ErrorBody returns an error body in format f's shape. code is OpenAI's
// error code ("content_policy_violation", "model_not_found", ...); param
// may be empty.
func ErrorBody(f Format, status int, code, msg, param string) []byte {
	if f == Anthropic {
		return js(map[string]any{"type": "error", "error": map[string]any{"type": anthropicType(status), "message": msg}})
	}
	var p, c any
	if param != "" {
		p = param
	}
	if code != "" {
		c = code
	}
	return js(map[string]any{"error": map[string]any{"message": msg, "type": openAIType(status), "param": p, "code": c}})
}

func openAIType(status int) string {
	switch {
	case status == 401:
		return "authentication_error"
	case status == 403:
		return "permission_error"
	case status == 404:
		return "not_found_error"
	case status == 429:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

func anthropicType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}
