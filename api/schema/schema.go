// Package schema derives the API Gateway request models of the upload API
// from its Go request types, so that a field added to a type reaches the
// deployed model with no second edit.
//
// API Gateway validates with JSON Schema draft 4. The types are reflected
// (with github.com/invopop/jsonschema, which writes draft 2020-12) and the
// result is converted: references inlined, no $id or $defs, and any keyword
// draft 4 lacks is an error rather than a silently ignored rule.
package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/invopop/jsonschema"

	"github.com/presigned-upload/presigned-upload/api"
)

// Draft4 is the $schema URI of the models.
const Draft4 = "http://json-schema.org/draft-04/schema#"

// For returns the draft-4 JSON Schema of r's request under the settings c,
// as decoded JSON (maps, slices, strings, float64 and bool), or nil when r
// takes no request.
func For(r api.Route, c api.UploadSettings) (map[string]any, error) {
	req := r.Request()
	if req == nil {
		return nil, nil
	}
	s, err := ForType(req, r.Name, r.Required(c))
	if err != nil {
		return nil, fmt.Errorf("model of %s: %w", r, err)
	}
	return s, nil
}

// ForType returns the draft-4 JSON Schema of the request type of v, titled
// title; required, when not nil, replaces the fields its tags require.
func ForType(v any, title string, required []string) (map[string]any, error) {
	ref := jsonschema.Reflector{
		DoNotReference:             true,
		ExpandedStruct:             true,
		RequiredFromJSONSchemaTags: true,
	}
	b, err := json.Marshal(ref.Reflect(v))
	if err != nil {
		return nil, err
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if err := toDraft4(s, "#"); err != nil {
		return nil, err
	}
	if required != nil {
		s["required"] = toAny(required)
	}
	s["$schema"] = Draft4
	s["title"] = title
	return s, nil
}

// draft4 lists the keywords draft 4 defines that the models may use.
var draft4 = []string{
	"type", "properties", "required", "additionalProperties", "items",
	"minLength", "maxLength", "pattern", "enum",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
	"minItems", "maxItems", "uniqueItems", "title", "description", "default", "format",
}

// toDraft4 rewrites a draft 2020-12 schema in place into draft 4, failing on
// a keyword draft 4 does not have.
func toDraft4(s map[string]any, at string) error {
	delete(s, "$schema")
	delete(s, "$id")
	if f, ok := s["format"].(string); ok {
		pattern, known := api.Formats[f]
		if !known {
			return fmt.Errorf("%s: format %q is not in api.Formats", at, f)
		}
		delete(s, "format")
		s["pattern"] = pattern
	}
	// Draft 2020-12 spells exclusive bounds as numbers, draft 4 as flags
	// on minimum and maximum.
	for _, b := range [][2]string{{"exclusiveMinimum", "minimum"}, {"exclusiveMaximum", "maximum"}} {
		if v, ok := s[b[0]].(float64); ok {
			s[b[1]], s[b[0]] = v, true
		}
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(draft4, k) {
			return fmt.Errorf("%s: keyword %q is not in JSON Schema draft 4", at, k)
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			if err := toDraft4(p.(map[string]any), at+"/properties/"+name); err != nil {
				return err
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		if err := toDraft4(items, at+"/items"); err != nil {
			return err
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
