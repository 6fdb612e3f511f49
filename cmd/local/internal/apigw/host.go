package apigw

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// CodeInvalidHost is the error code of a request addressed to a name the
// stage does not answer to.
const CodeInvalidHost = "INVALID_HOST"

// hostAllowed reports whether a request's Host header (with or without a
// port) names this machine's loopback (localhost, 127.0.0.0/8, ::1) or one
// of the configured hosts. A page that rebinds its own DNS name to 127.0.0.1
// still sends that name, so it is refused.
func (s *Stage) hostAllowed(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if name == "" {
		return false
	}
	if strings.EqualFold(name, "localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	return slices.ContainsFunc(s.cfg.Hosts, func(h string) bool { return strings.EqualFold(h, name) })
}

// refuseHost answers a request addressed to a name the stage does not
// answer to.
func (s *Stage) refuseHost(w http.ResponseWriter, r *http.Request) {
	s.gatewayError(w, r, http.StatusForbidden, CodeInvalidHost,
		"Forbidden: local mode answers only requests addressed to localhost, a loopback address or the address it listens on")
}
