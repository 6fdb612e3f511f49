package apigw

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/api/schema"
)

// models are the request checks the deployed stage applies before the
// function runs: each POST route's body model, derived from its request
// type exactly as the construct derives it, and each other route's required
// query parameters.
type models struct {
	body     map[string]*jsonschema.Schema // by "METHOD /resource"
	required map[string][]string
}

func newModels(routes []api.Route, settings api.UploadSettings) (*models, error) {
	m := &models{body: map[string]*jsonschema.Schema{}, required: map[string][]string{}}
	for _, r := range routes {
		if !r.InBody() {
			m.required[r.String()] = r.Required(settings)
			continue
		}
		if r.Request() == nil {
			continue // nothing to check: the function reads no body
		}
		doc, err := schema.For(r, settings)
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft4)
		url := "mem:///models/" + r.Name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("model %s: %w", r.Name, err)
		}
		if m.body[r.String()], err = c.Compile(url); err != nil {
			return nil, fmt.Errorf("model %s: %w", r.Name, err)
		}
	}
	return m, nil
}

// check returns the gateway's refusal of a request to route (method and
// resource), or "" when the request passes: the code and message API
// Gateway answers with, in its gateway-response shape.
func (m *models) check(method, resource string, r *http.Request, body []byte) (code, message string) {
	key := method + " " + resource
	if names := m.required[key]; len(names) > 0 {
		var missing []string
		q := r.URL.Query()
		for _, n := range names {
			if !q.Has(n) {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return "BAD_REQUEST_PARAMETERS", "Missing required request parameters: [" + strings.Join(missing, ", ") + "]"
		}
	}
	sch := m.body[key]
	if sch == nil { // models apply whatever the Content-Type: they are registered for $default too
		return "", ""
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return "BAD_REQUEST_BODY", "Invalid request body: not JSON"
	}
	if err := sch.Validate(doc); err != nil {
		return "BAD_REQUEST_BODY", "Invalid request body: " + describe(err)
	}
	return "", ""
}

// describe flattens a validation error into one line of its causes.
func describe(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(lines) > 1 {
		lines = lines[1:] // the first names the schema's URL
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "-"))
	}
	return strings.Join(lines, "; ")
}
