package api_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

func TestUploadSettingsRejectBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg     api.UploadSettings
		setting string
	}{
		"no bucket":                      {api.UploadSettings{}, "bucket"},
		"prefix traversal":               {api.UploadSettings{Bucket: "b", KeyPrefix: "../"}, "keyPrefix"},
		"prefix no slash":                {api.UploadSettings{Bucket: "b", KeyPrefix: "uploads"}, "keyPrefix"},
		"prefix absolute":                {api.UploadSettings{Bucket: "b", KeyPrefix: "/uploads/"}, "keyPrefix"},
		"expiry too long":                {api.UploadSettings{Bucket: "b", UrlExpiry: api.Seconds(13 * time.Hour / time.Second)}, "urlExpiry"},
		"max size too big":               {api.UploadSettings{Bucket: "b", MaxFileSize: 6 << 30}, "maxFileSize"},
		"multipart too big":              {api.UploadSettings{Bucket: "b", MaxMultipartSize: api.Bytes(api.MaxObjectSize + 1)}, "maxMultipartSize"},
		"part too small":                 {api.UploadSettings{Bucket: "b", PartSize: 1 << 20}, "partSize"},
		"bad content type":               {api.UploadSettings{Bucket: "b", AllowedContentTypes: []string{"image"}}, "allowedContentTypes"},
		"bad origin":                     {api.UploadSettings{Bucket: "b", AllowedOrigins: []string{"https://a.example/path"}}, "allowedOrigins"},
		"origin with space":              {api.UploadSettings{Bucket: "b", AllowedOrigins: []string{" https://a.example"}}, "allowedOrigins"},
		"star and origin":                {api.UploadSettings{Bucket: "b", AllowedOrigins: []string{"*", "https://a.example"}}, "allowedOrigins"},
		"sessions inside the key prefix": {api.UploadSettings{Bucket: "b", KeyPrefix: "uploads/", SessionPrefix: "uploads/s/"}, "sessionPrefix"},
		"key prefix inside the sessions": {api.UploadSettings{Bucket: "b", KeyPrefix: "s/uploads/", SessionPrefix: "s/"}, "sessionPrefix"},
		"the same prefix":                {api.UploadSettings{Bucket: "b", KeyPrefix: "u/", SessionPrefix: "u/"}, "sessionPrefix"},
		"bad session prefix":             {api.UploadSettings{Bucket: "b", SessionPrefix: "../"}, "sessionPrefix"},
		"negative quota":                 {api.UploadSettings{Bucket: "b", Verified: true, QuotaBytes: -1}, "quotaBytes"},
		"negative tier quota":            {api.UploadSettings{Bucket: "b", Verified: true, SignIn: true, QuotaTierClaim: "tier", QuotaTiers: map[string]api.QuotaLimits{"pro": {Sessions: -2}}}, "quotaTiers.pro.sessions"},
		"quotas without the verifier":    {api.UploadSettings{Bucket: "b", QuotaFilesPerDay: 5}, "quotaBytes"},
		"tiers without a claim":          {api.UploadSettings{Bucket: "b", Verified: true, SignIn: true, QuotaTiers: map[string]api.QuotaLimits{"pro": {Bytes: 1}}}, "quotaTiers"},
		"a claim without tiers":          {api.UploadSettings{Bucket: "b", Verified: true, SignIn: true, QuotaTierClaim: "tier"}, "quotaTierClaim"},
		"a tier claim without sign-in":   {api.UploadSettings{Bucket: "b", Verified: true, QuotaTierClaim: "tier", QuotaTiers: map[string]api.QuotaLimits{"pro": {Bytes: 1}}}, "quotaTierClaim"},
		"the caller's own claim as tier": {api.UploadSettings{Bucket: "b", Verified: true, SignIn: true, QuotaTierClaim: "sub", QuotaTiers: map[string]api.QuotaLimits{"pro": {Bytes: 1}}}, "quotaTierClaim"},
		"ledgers among the uploads":      {api.UploadSettings{Bucket: "b", Verified: true, QuotaBytes: 1, QuotaPrefix: "uploads/ledgers/"}, "quotaPrefix"},
		"bad quota prefix":               {api.UploadSettings{Bucket: "b", Verified: true, QuotaBytes: 1, QuotaPrefix: "ledgers"}, "quotaPrefix"},
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

// fill sets every field of *v that a deployment sets (derived ones too) to
// a value other than its zero value and other than its default, so a field
// a codec drops shows as a difference; valid where validation needs it.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	valid := map[string]any{
		"KeyPrefix":           "in/coming/",
		"UrlExpiry":           api.Seconds(90),
		"AllowedContentTypes": []string{"image/*", "application/pdf"},
		"MaxFileSize":         api.Bytes(1 << 20),
		"MaxMultipartSize":    api.Bytes(1 << 30),
		"PartSize":            api.Bytes(8 << 20),
		"AllowedOrigins":      []string{"https://a.example", "http://localhost:8080"},
		"SessionPrefix":       "sessions-x/",
		"MarkerPrefix":        "checked/",
		"QuotaPrefix":         "ledgers/",
		"MalwareScanTimeout":  api.Seconds(900),
		"IssuerUrl":           "https://issuer.example/",
		"JwksUrl":             "https://issuer.example/keys",
	}
	for _, f := range api.SettingFields(v.Type()) {
		fv := v.FieldByIndex(f.Index)
		if x, ok := valid[f.Name]; ok {
			fv.Set(reflect.ValueOf(x))
			continue
		}
		switch fv.Interface().(type) {
		case string:
			fv.SetString("x" + f.Name)
		case bool:
			fv.SetBool(true)
		case api.Seconds:
			fv.Set(reflect.ValueOf(api.Seconds(120)))
		case api.Bytes:
			fv.Set(reflect.ValueOf(api.Bytes(6 << 20)))
		case api.Count:
			fv.Set(reflect.ValueOf(api.Count(7)))
		case map[string]api.QuotaLimits:
			fv.Set(reflect.ValueOf(map[string]api.QuotaLimits{"pro": {Bytes: 1 << 30, FilesPerDay: 100}}))
		case []string:
			fv.Set(reflect.ValueOf([]string{"x" + f.Name}))
		default:
			t.Fatalf("fill: %s.%s has kind %s; give it a valid value in this test", v.Type().Name(), f.Name, fv.Kind())
		}
	}
}

// roundTrip checks that every field of the settings type T survives its
// codec, and that the decoder refuses what it must.
func roundTrip[T api.Settings[T]](t *testing.T) {
	var want T
	fill(t, reflect.ValueOf(&want).Elem())
	if d := want.WithDefaults(); !reflect.DeepEqual(d, want) {
		t.Fatalf("the test's settings are not fully set: defaults changed them to %+v", d)
	}
	got, err := api.DecodeSettings[T](api.EncodeSettings(want))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
	// The valid settings with one value broken.
	var broken map[string]any
	_ = json.Unmarshal([]byte(api.EncodeSettings(want)), &broken)
	if _, ok := broken["partSize"]; ok {
		broken["partSize"] = 1
	} else {
		broken["audience"] = ""
	}
	for name, s := range map[string]string{
		"empty":         ``,
		"unknown field": `{"bucket":"b","maxFileSise":1}`,
		"not an object": `[]`,
		"invalid value": api.EncodeSettings(broken),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := api.DecodeSettings[T](s)
			if err == nil {
				t.Fatalf("DecodeSettings(%s) = %+v, want an error", s, c)
			}
			if !strings.HasPrefix(err.Error(), want.Variable()+": ") {
				t.Errorf("error %q does not name %s", err, want.Variable())
			}
		})
	}
}

func TestSettingsCodecsCarryEveryField(t *testing.T) {
	t.Run("upload", roundTrip[api.UploadSettings])
	t.Run("verifier", roundTrip[api.VerifierSettings])
	t.Run("authorizer", roundTrip[api.AuthorizerSettings])
}

func TestLoadSettingsReadsItsVariable(t *testing.T) {
	env := map[string]string{
		api.UploadSettingsVariable:     `{"bucket":"up"}`,
		api.VerifierSettingsVariable:   `{"bucket":"checked","markerPrefix":"done/"}`,
		api.AuthorizerSettingsVariable: `{"issuerUrl":"https://issuer.example","audience":"api"}`,
	}
	getenv := func(k string) string { return env[k] }
	u, err := api.LoadSettings[api.UploadSettings](getenv)
	if err != nil || u.Bucket != "up" {
		t.Errorf("upload settings = %+v, %v", u, err)
	}
	v, err := api.LoadSettings[api.VerifierSettings](getenv)
	if err != nil || v.Bucket != "checked" || v.MarkerPrefix != "done/" || v.KeyPrefix != api.DefaultKeyPrefix {
		t.Errorf("verifier settings = %+v, %v", v, err)
	}
	a, err := api.LoadSettings[api.AuthorizerSettings](getenv)
	if err != nil || a.Audience != "api" {
		t.Errorf("authorizer settings = %+v, %v", a, err)
	}
}

func TestDerivedSettings(t *testing.T) {
	derived := map[string][]string{}
	for _, v := range []any{api.UploadSettings{}, api.VerifierSettings{}, api.AuthorizerSettings{}} {
		typ := reflect.TypeOf(v)
		for _, f := range api.SettingFields(typ) {
			if f.Derived {
				derived[typ.Name()] = append(derived[typ.Name()], f.Setting)
			}
		}
	}
	want := map[string][]string{
		"UploadSettings":     {"bucket", "signIn", "verified"},
		"VerifierSettings":   {"bucket", "signIn", "verified", "eventBusName"},
		"AuthorizerSettings": {"quotaTierClaim"},
	}
	if !reflect.DeepEqual(derived, want) {
		t.Errorf("derived settings = %v, want %v", derived, want)
	}
}

func TestVerifierSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       api.VerifierSettings
		setting string // "" when valid
	}{
		{"defaults", api.VerifierSettings{}, ""},
		{"marker prefix of its own", api.VerifierSettings{MarkerPrefix: "checks/done/"}, ""},
		{"marker prefix inside the key prefix", api.VerifierSettings{MarkerPrefix: "uploads/markers/"}, "markerPrefix"},
		{"marker prefix around the key prefix", api.VerifierSettings{MarkerPrefix: "up/"}, ""},
		{"marker prefix equal to the session prefix", api.VerifierSettings{MarkerPrefix: "upload-sessions/"}, "markerPrefix"},
		{"marker prefix not segments", api.VerifierSettings{MarkerPrefix: "markers"}, "markerPrefix"},
		{"scan timeout too short", api.VerifierSettings{MalwareScanTimeout: 59}, "malwareScanTimeout"},
		{"scan timeout too long", api.VerifierSettings{MalwareScanTimeout: 24*3600 + 1}, "malwareScanTimeout"},
		{"scan over GuardDuty's limit", api.VerifierSettings{MalwareScanEnabled: true, UploadSettings: api.UploadSettings{MaxMultipartSize: api.Bytes(api.MalwareScanMaxSize + 1)}}, "maxMultipartSize"},
		{"scan within GuardDuty's limit", api.VerifierSettings{MalwareScanEnabled: true, UploadSettings: api.UploadSettings{MaxMultipartSize: 1 << 30}}, ""},
		{"scan with the multipart limit unset", api.VerifierSettings{MalwareScanEnabled: true}, ""},
		{"an upload setting", api.VerifierSettings{UploadSettings: api.UploadSettings{PartSize: 1}}, "partSize"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			s.Bucket = "b"
			errs := api.SettingErrors(s.WithDefaults().Validate())
			switch {
			case tc.setting == "" && len(errs) > 0:
				t.Errorf("Validate = %v, want valid", errs[0])
			case tc.setting != "" && (len(errs) != 1 || errs[0].Setting != tc.setting):
				t.Errorf("Validate = %v, want one %s error", errs, tc.setting)
			}
		})
	}
}

func TestAuthorizerSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       api.AuthorizerSettings
		setting string // "" when valid
	}{
		{"https", api.AuthorizerSettings{IssuerUrl: "https://issuer.example/", Audience: "api"}, ""},
		{"loopback http", api.AuthorizerSettings{IssuerUrl: "http://127.0.0.1:9100", Audience: "api", JwksUrl: "http://localhost:9100/keys"}, ""},
		{"http elsewhere", api.AuthorizerSettings{IssuerUrl: "http://issuer.example", Audience: "api"}, "issuerUrl"},
		{"relative issuer", api.AuthorizerSettings{IssuerUrl: "/issuer", Audience: "api"}, "issuerUrl"},
		{"credentials in the issuer", api.AuthorizerSettings{IssuerUrl: "https://u:p@issuer.example", Audience: "api"}, "issuerUrl"},
		{"no audience", api.AuthorizerSettings{IssuerUrl: "https://issuer.example"}, "audience"},
		{"keys in the clear", api.AuthorizerSettings{IssuerUrl: "https://issuer.example", Audience: "api", JwksUrl: "http://issuer.example/keys"}, "jwksUrl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := api.SettingErrors(tc.s.Validate())
			switch {
			case tc.setting == "" && len(errs) > 0:
				t.Errorf("Validate = %v, want valid", errs[0])
			case tc.setting != "" && (len(errs) != 1 || errs[0].Setting != tc.setting):
				t.Errorf("Validate = %v, want one %s error", errs, tc.setting)
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
