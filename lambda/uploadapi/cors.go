package uploadapi

import (
	"strings"

	"github.com/presigned-upload/presigned-upload/api"
)

// setCORSHeaders adds the CORS response headers for origin to h.
func setCORSHeaders(h map[string]string, allowed []string, origin string) {
	allow := api.AllowOrigin(allowed, origin)
	if allow != "" {
		h["Access-Control-Allow-Origin"] = allow
	}
	if allow != "*" {
		h["Vary"] = "Origin"
	}
	// A page on another origin reads when to try again.
	h["Access-Control-Expose-Headers"] = "Retry-After"
}

// header looks name up case-insensitively, as HTTP header names are.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
