package api

import "strings"

// activeContentTypes are media types a browser runs when it is served
// them: markup that can carry script, and script itself. An upload of one is
// refused unless the allow-list names the type exactly; a wildcard such as
// "image/*" never admits one (SVG is markup).
var activeContentTypes = []string{
	"text/html", "application/xhtml+xml", "image/svg+xml",
	"text/xml", "application/xml", "text/xsl",
	"text/javascript", "application/javascript", "application/x-javascript",
	"application/ecmascript", "text/ecmascript",
	// More names browsers run as script.
	"text/x-javascript", "application/x-ecmascript", "text/jscript", "text/livescript", "text/x-ecmascript",
	// Types browsers sniff, and may then render as HTML.
	"unknown/unknown", "application/unknown",
}

// IsActiveContent reports whether the media type mt (lowercase, without
// parameters) is one a browser would run: one of the listed types, or any
// XML type ("+xml").
func IsActiveContent(mt string) bool {
	for _, t := range activeContentTypes {
		if mt == t {
			return true
		}
	}
	return strings.HasSuffix(mt, "+xml")
}

// ContentTypeAllowed reports whether an upload of media type mt (lowercase,
// without parameters) is allowed by the allow-list: an empty list allows
// every passive type, an entry allows its exact type, and a "major/*"
// entry every passive type under major. Active content needs an exact entry.
func ContentTypeAllowed(allowed []string, mt string) bool {
	active := IsActiveContent(mt)
	if len(allowed) == 0 {
		return !active
	}
	for _, p := range allowed {
		if p == mt {
			return true
		}
		if !active && strings.HasSuffix(p, "/*") && strings.HasPrefix(mt, p[:len(p)-1]) {
			return true
		}
	}
	return false
}
