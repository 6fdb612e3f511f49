package api_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

func TestConfigRejectsBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg     api.Config
		setting string
	}{
		"no bucket":                      {api.Config{}, "bucket"},
		"prefix traversal":               {api.Config{Bucket: "b", KeyPrefix: "../"}, "keyPrefix"},
		"prefix no slash":                {api.Config{Bucket: "b", KeyPrefix: "uploads"}, "keyPrefix"},
		"prefix absolute":                {api.Config{Bucket: "b", KeyPrefix: "/uploads/"}, "keyPrefix"},
		"expiry too long":                {api.Config{Bucket: "b", UrlExpiry: api.Seconds(13 * time.Hour / time.Second)}, "urlExpiry"},
		"max size too big":               {api.Config{Bucket: "b", MaxFileSize: 6 << 30}, "maxFileSize"},
		"multipart too big":              {api.Config{Bucket: "b", MaxMultipartSize: 6 << 40}, "maxMultipartSize"},
		"part too small":                 {api.Config{Bucket: "b", PartSize: 1 << 20}, "partSize"},
		"bad content type":               {api.Config{Bucket: "b", AllowedContentTypes: []string{"image"}}, "allowedContentTypes"},
		"bad origin":                     {api.Config{Bucket: "b", AllowedOrigins: []string{"https://a.example/path"}}, "allowedOrigins"},
		"origin with space":              {api.Config{Bucket: "b", AllowedOrigins: []string{" https://a.example"}}, "allowedOrigins"},
		"star and origin":                {api.Config{Bucket: "b", AllowedOrigins: []string{"*", "https://a.example"}}, "allowedOrigins"},
		"sessions inside the key prefix": {api.Config{Bucket: "b", KeyPrefix: "uploads/", SessionPrefix: "uploads/s/"}, "sessionPrefix"},
		"key prefix inside the sessions": {api.Config{Bucket: "b", KeyPrefix: "s/uploads/", SessionPrefix: "s/"}, "sessionPrefix"},
		"the same prefix":                {api.Config{Bucket: "b", KeyPrefix: "u/", SessionPrefix: "u/"}, "sessionPrefix"},
		"bad session prefix":             {api.Config{Bucket: "b", SessionPrefix: "../"}, "sessionPrefix"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.WithDefaults().Validate()
			var se *api.SettingError
			if !errors.As(err, &se) {
				t.Fatalf("Validate(%+v) = %v, want a *SettingError", tc.cfg, err)
			}
			if se.Setting != tc.setting {
				t.Errorf("setting = %q, want %q (%v)", se.Setting, tc.setting, err)
			}
		})
	}
}

// fill sets every field of *v to a value other than its zero value and
// other than the default, so a field the codec drops shows as a difference.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int64:
			f.SetInt(int64(1000 + i))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"a" + v.Type().Field(i).Name, "b"}))
		default:
			t.Fatalf("fill: field %s has kind %s; teach the test about it", v.Type().Field(i).Name, f.Kind())
		}
	}
}

func TestConfigCodecCarriesEveryField(t *testing.T) {
	var want api.Config
	fill(t, reflect.ValueOf(&want).Elem())
	// Valid values where validation needs them; every field still differs
	// from its default.
	want.KeyPrefix = "in/coming/"
	want.UrlExpiry = 90
	want.AllowedContentTypes = []string{"image/*", "application/pdf"}
	want.MaxFileSize, want.MaxMultipartSize, want.PartSize = 1<<20, 1<<30, 8<<20
	want.AllowedOrigins = []string{"https://a.example", "http://localhost:8080"}
	want.SessionPrefix = "sessions-x/"
	if d := want.WithDefaults(); !reflect.DeepEqual(d, want) {
		t.Fatalf("the test's config is not fully set: defaults changed it to %+v", d)
	}
	got, err := api.DecodeConfig(want.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
}

func TestDecodeConfigRefuses(t *testing.T) {
	for name, s := range map[string]string{
		"empty":         ``,
		"unknown field": `{"bucket":"b","maxFileSise":1}`,
		"wrong type":    `{"bucket":"b","requireSize":"maybe"}`,
		"invalid value": `{"bucket":"b","partSize":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			if c, err := api.DecodeConfig(s); err == nil {
				t.Errorf("DecodeConfig(%s) = %+v, want an error", s, c)
			}
		})
	}
}

func TestCallerID(t *testing.T) {
	seen := map[string]string{}
	for _, sub := range []string{"auth0|abc", "google-oauth2|1234567890", "üñîçødé 🚀", strings.Repeat("x", 300), "a/../b", ""} {
		for _, iss := range []string{"https://a.example", "https://b.example"} {
			id := api.CallerID(iss, sub)
			if !api.IsCallerID(id) || id != api.CallerID(iss, sub) {
				t.Errorf("CallerID(%q, %q) = %q, not a stable caller ID", iss, sub, id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("CallerID collides for %q and %q", prev, iss+" "+sub)
			}
			seen[id] = iss + " " + sub
		}
	}
	if api.CallerID("https://a.example/", "x") == api.CallerID("https://a.example", "/x") {
		t.Error("issuer and subject are not separated")
	}
}
