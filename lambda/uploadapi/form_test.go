package uploadapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// formPolicy is the decoded POST policy a form carries.
type formPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

func decodePolicy(t *testing.T, encoded string) formPolicy {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("policy %q is not base64: %v", encoded, err)
	}
	var p formPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("policy %s is not JSON: %v", raw, err)
	}
	return p
}

// hasCondition reports whether conditions hold one equal to the JSON want.
func hasCondition(t *testing.T, conditions []any, want string) bool {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("condition %s: %v", want, err)
	}
	for _, c := range conditions {
		if reflect.DeepEqual(c, w) {
			return true
		}
	}
	return false
}

func TestUploadForm(t *testing.T) {
	tests := []struct {
		name        string
		cfg         api.UploadSettings
		contentType string
		wantMax     string // the upper end of content-length-range
	}{
		{"default size limit", api.UploadSettings{}, "image/png", "5368709120"},
		{"configured size limit", api.UploadSettings{MaxFileSize: 10 << 20, AllowedContentTypes: []string{"image/*"}}, "image/png", "10485760"},
		{"content type parameters are kept verbatim", api.UploadSettings{}, "text/plain; charset=utf-8", "5368709120"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newS3Handler(t, tc.cfg, &fakeS3{})
			body := `{"fileName":"holiday photo.png","contentType":"` + tc.contentType + `"}`
			out := decodeJSON[api.UploadFormResponse](t, call(t, h, apiRequest("POST", "/get-upload-form", "", nil, body)))

			if !api.KeyPattern("uploads/").MatchString(out.FileKey) || !strings.HasSuffix(out.FileKey, "-holiday_photo.png") {
				t.Errorf("fileKey = %q, want an issued key under uploads/ ending in -holiday_photo.png", out.FileKey)
			}
			if u, err := url.Parse(out.URL); err != nil || u.Scheme != "https" || u.Host != "upload-bucket.s3.eu-west-1.amazonaws.com" || u.RawQuery != "" {
				t.Errorf("url = %q, want the bucket's endpoint without a query", out.URL)
			}
			if out.ExpiresIn != 300 {
				t.Errorf("expiresIn = %d, want 300", out.ExpiresIn)
			}
			if got, want := out.MaxSize, int64(tc.cfg.WithDefaults().MaxFileSize); got != want {
				t.Errorf("maxSize = %d, want %d", got, want)
			}
			for _, name := range []string{"policy", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Date"} {
				if out.Fields[name] == "" {
					t.Errorf("fields lack %s: %v", name, out.Fields)
				}
			}
			if got := out.Fields["key"]; got != out.FileKey {
				t.Errorf("fields[key] = %q, want the fileKey %q", got, out.FileKey)
			}
			if got := out.Fields["Content-Type"]; got != tc.contentType {
				t.Errorf("fields[Content-Type] = %q, want %q", got, tc.contentType)
			}
			if _, ok := out.Fields["file"]; ok {
				t.Error("fields carry \"file\", which must be the form's last part")
			}

			policy := decodePolicy(t, out.Fields["policy"])
			if policy.Expiration == "" {
				t.Error("policy has no expiration")
			}
			ctJSON, _ := json.Marshal(tc.contentType)
			keyJSON, _ := json.Marshal(out.FileKey)
			for _, want := range []string{
				`["content-length-range", 1, ` + tc.wantMax + `]`,
				`{"Content-Type": ` + string(ctJSON) + `}`,
				`{"key": ` + string(keyJSON) + `}`,
				`{"bucket": "upload-bucket"}`,
			} {
				if !hasCondition(t, policy.Conditions, want) {
					t.Errorf("policy conditions %v lack %s", policy.Conditions, want)
				}
			}
		})
	}
}

func TestUploadFormRejects(t *testing.T) {
	sum := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name     string
		body     string
		status   int
		code     string
		contains string
	}{
		{"size given", `{"fileName":"a.png","contentType":"image/png","size":10}`, 400, "BadRequest", `unknown field "size"`},
		{"checksum given", `{"fileName":"a.png","contentType":"image/png","checksumSHA256":"` + sum + `"}`, 400, "BadRequest", `unknown field "checksumSHA256"`},
		{"type not allowed", `{"fileName":"a.html","contentType":"text/html"}`, 415, "UnsupportedMediaType", "text/html"},
		{"fileName missing", `{"contentType":"image/png"}`, 400, "BadRequest", "fileName is required"},
		{"contentType missing", `{"fileName":"a.png"}`, 400, "BadRequest", "contentType is required"},
		{"unknown field", `{"fileName":"a.png","contentType":"image/png","acl":"public-read"}`, 400, "BadRequest", "acl"},
		{"empty body", ``, 400, "BadRequest", "empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{}
			h, _ := newS3Handler(t, api.UploadSettings{AllowedContentTypes: []string{"image/*"}}, fake)
			wantError(t, call(t, h, apiRequest("POST", "/get-upload-form", "", nil, tc.body)), tc.status, tc.code, tc.contains)
			wantCalls(t, fake, 0, 0, 0, 0)
		})
	}
}
