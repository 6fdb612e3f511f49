package schema_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/api/schema"
)

func jsonNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" && n != "-" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func compile(t *testing.T, doc map[string]any) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("mem:///model.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem:///model.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Every route's model has exactly its request type's fields, is draft 4,
// and requires what the type and the settings require.
func TestModelsFollowTheRequestTypes(t *testing.T) {
	for _, strict := range []bool{false, true} {
		cfg := api.UploadSettings{RequireSize: strict}
		for _, r := range api.Routes {
			t.Run(r.String(), func(t *testing.T) {
				doc, err := schema.For(r, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if r.Request() == nil {
					if doc != nil {
						t.Errorf("a route without a request has the model %v", doc)
					}
					return
				}
				if doc["$schema"] != schema.Draft4 || doc["additionalProperties"] != false || doc["type"] != "object" {
					t.Errorf("model head = %v %v %v", doc["$schema"], doc["additionalProperties"], doc["type"])
				}
				var props []string
				for name := range doc["properties"].(map[string]any) {
					props = append(props, name)
				}
				sort.Strings(props)
				if want := jsonNames(reflect.TypeOf(r.Request())); !slices.Equal(props, want) {
					t.Errorf("model properties = %v, want the type's fields %v", props, want)
				}
				var required []string
				names, _ := doc["required"].([]any)
				for _, n := range names {
					required = append(required, n.(string))
				}
				if want := r.Required(cfg); !slices.Equal(required, want) {
					t.Errorf("model required = %v, want %v", required, want)
				}
				raw, _ := json.Marshal(doc)
				for _, banned := range []string{"$ref", "$defs", "$id", "definitions"} {
					if strings.Contains(string(raw), `"`+banned+`"`) {
						t.Errorf("model has %s: %s", banned, raw)
					}
				}
				compile(t, doc) // a valid draft-4 schema
			})
		}
	}
}

// What the Go client sends, the models accept; what breaks a rule they
// check, they refuse.
func TestModelsAcceptClientRequestsAndRefuseBadOnes(t *testing.T) {
	sum := strings.Repeat("A", 43) + "="
	size := int64(10)
	good := map[string]any{
		api.UploadURL.String():         api.UploadURLRequest{FileName: "a.txt", ContentType: "text/plain", Size: &size, ChecksumSHA256: sum},
		api.UploadForm.String():        api.UploadFormRequest{FileName: "", ContentType: "image/png"},
		api.StartMultipart.String():    api.MultipartStartRequest{FileName: "a.bin", ContentType: "application/octet-stream", Size: 1 << 30, ChecksumAlgorithm: "SHA256"},
		api.SignParts.String():         api.SignPartsRequest{FileKey: "uploads/x", Size: 1 << 30, PartNumbers: []int{1, 2}, ChecksumsSHA256: []string{sum, sum}},
		api.CompleteMultipart.String(): api.CompleteRequest{FileKey: "uploads/x", Parts: []api.CompletedPart{{PartNumber: 1, ETag: `"abc"`}}},
		api.DownloadURL.String():       api.DownloadURLRequest{FileKey: "uploads/x"},
	}
	bad := map[string][]string{
		api.UploadURL.String(): {
			`{"contentType":"text/plain"}`, `{"fileName":"a","contentType":""}`, `{"fileName":"a","contentType":"text/plain","size":0}`,
			`{"fileName":"a","contentType":"text/plain","size":"1"}`, `{"fileName":"a","contentType":"text/plain","checksumSHA256":"abc"}`,
			`{"fileName":"a","contentType":"text/plain","bucket":"x"}`, `[]`,
		},
		api.StartMultipart.String(): {`{"fileName":"a","contentType":"a/b"}`, `{"fileName":"a","contentType":"a/b","size":5,"checksumAlgorithm":"MD5"}`},
		api.SignParts.String(): {
			`{"fileKey":"k","size":1,"partNumbers":[]}`, `{"fileKey":"k","size":1,"partNumbers":[0]}`,
			`{"fileKey":"k","size":1,"partNumbers":[` + strings.Repeat("1,", 1000) + `1]}`,
			`{"fileKey":"k","size":1,"partNumbers":[1],"checksumsSHA256":["x"]}`,
		},
		api.CompleteMultipart.String(): {`{"fileKey":"k","parts":[{"partNumber":1}]}`, `{"fileKey":"k","parts":[{"partNumber":1,"etag":"` + strings.Repeat("e", 257) + `"}]}`},
	}
	for _, r := range api.Routes {
		if !r.InBody() || r.Request() == nil {
			continue // a query, or no request: no body to model
		}
		doc, err := schema.For(r, api.UploadSettings{})
		if err != nil {
			t.Fatal(err)
		}
		model := compile(t, doc)
		t.Run(r.String(), func(t *testing.T) {
			req, ok := good[r.String()]
			if !ok {
				t.Fatalf("no good request for %s in this test", r)
			}
			raw, _ := json.Marshal(req)
			if err := model.Validate(decode(t, string(raw))); err != nil {
				t.Errorf("model refuses %s: %v", raw, err)
			}
			for _, b := range bad[r.String()] {
				if model.Validate(decode(t, b)) == nil {
					t.Errorf("model accepts %s", b)
				}
			}
		})
	}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A keyword draft 4 lacks is an error, not a rule the gateway would skip.
func TestDraft4KeywordsOnly(t *testing.T) {
	type withExamples struct {
		Name string `json:"name" jsonschema:"example=x"`
	}
	_, err := schema.ForType(withExamples{}, "WithExamples", nil)
	if err == nil || !strings.Contains(err.Error(), `"examples"`) {
		t.Errorf("err = %v, want one naming the examples keyword", err)
	}
	type withFormat struct {
		Name string `json:"name" jsonschema:"format=nope"`
	}
	if _, err := schema.ForType(withFormat{}, "WithFormat", nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("err = %v, want one naming the unknown format", err)
	}
}
