package oidcdev

import (
	"bytes"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/oauth2-proxy/mockoidc"
)

// userPattern is what a user name may hold: it becomes the tokens' sub.
var userPattern = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

// userRule is the login page's message for a name userPattern refuses.
const userRule = "A user name is 1 to 64 letters, digits or . _ @ + -"

// emailOf is the email claim of a user: the name itself when it is an
// address, otherwise an address at a domain reserved for examples.
func emailOf(user string) string {
	if strings.Contains(user, "@") {
		return user
	}
	return user + "@example.com"
}

// loginPage is the form the authorization endpoint shows when the request
// names no user: it posts the request back with the typed name as
// login_hint.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in (local)</title>
<style>
body{font:16px/1.4 system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;box-sizing:border-box}
input,button{font:inherit;padding:.5rem;margin:.5rem 0}
.error{color:#b00020}
</style>
</head>
<body>
<h1>Sign in</h1>
<p>Local sign-in: type any user name, no password.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="login_hint">User name</label>
<input id="login_hint" name="login_hint" value="{{.User}}" maxlength="64" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`))

type hiddenField struct{ Name, Value string }

// showLogin writes the login page for the authorization request q, with
// errMsg (if any) above the form.
func showLogin(w http.ResponseWriter, q url.Values, user, errMsg string) {
	var hidden []hiddenField
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if name != "login_hint" {
			hidden = append(hidden, hiddenField{name, q.Get(name)})
		}
	}
	var buf bytes.Buffer
	err := loginPage.Execute(&buf, struct {
		Action, User, Error string
		Hidden              []hiddenField
	}{mockoidc.AuthorizationEndpoint, user, errMsg, hidden})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// The page carries the request's state and code challenge.
	h.Set("Referrer-Policy", "no-referrer")
	// No script, no frames; form-action is left open because the form's
	// answer redirects to the client.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
