package uploadapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// With the verifier, the status route reports its decision from the
// object's tags, and download URLs are issued only for verified objects.
func TestVerifiedUploads(t *testing.T) {
	prefix := "uploads/" + api.CallerID(issuer, "alice") + "/"
	key := func(name string) string { return prefix + strings.Repeat("0", 26) + "-" + name }
	fake := &fakeS3{
		objects: map[string][]byte{key("new.png"): {1}, key("ok.png"): {1}, key("bad.png"): {1}},
		tags: map[string]map[string]string{
			key("ok.png"):  {api.StatusTag: api.StatusVerified, "GuardDutyMalwareScanStatus": "NO_THREATS_FOUND"},
			key("bad.png"): {api.StatusTag: api.StatusRejected, api.ReasonTag: api.ReasonTypeMismatch},
		},
	}
	h, _ := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: true}, fake)
	status := func(k, who string) (int, string) {
		resp := call(t, h, as(apiRequest("GET", "/uploads/status", "", map[string]string{"fileKey": k}, ""), who, true))
		return resp.StatusCode, resp.Body
	}
	for _, tc := range []struct {
		key, want string
	}{
		{key("new.png"), `{"status":"pending"}`},
		{key("ok.png"), `{"status":"verified"}`},
		{key("bad.png"), `{"status":"rejected","reason":"type-mismatch"}`},
	} {
		if code, body := status(tc.key, "alice"); code != 200 || body != tc.want {
			t.Errorf("status of %s = %d %s, want %s", tc.key, code, body, tc.want)
		}
	}
	if code, body := status(key("gone.png"), "alice"); code != 404 {
		t.Errorf("status of a missing file = %d %s, want 404", code, body)
	}
	if code, body := status(key("ok.png"), "bob"); code != 403 {
		t.Errorf("bob asking about alice's file = %d %s, want 403", code, body)
	}
	download := func(k string) (int, string) {
		resp := call(t, h, as(apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+k+`"}`), "alice", true))
		return resp.StatusCode, resp.Body
	}
	if code, body := download(key("ok.png")); code != 200 {
		t.Errorf("download of a verified file = %d %s", code, body)
	}
	for k, msg := range map[string]string{key("new.png"): "still being checked", key("bad.png"): "rejected: type-mismatch"} {
		if code, body := download(k); code != 409 || !strings.Contains(body, msg) || !strings.Contains(body, api.CodeNotVerified) {
			t.Errorf("download of %s = %d %s, want 409 saying %q", k, code, body, msg)
		}
	}
	t.Run("the route exists only with the verifier", func(t *testing.T) {
		h, _ := newS3Handler(t, api.UploadSettings{}, &fakeS3{})
		resp := call(t, h, apiRequest("GET", "/uploads/status", "", map[string]string{"fileKey": testKey}, ""))
		wantError(t, resp, 404, "NotFound", "no route")
	})
}

// A download URL names the version the handler checked (verified by its
// tags, or, without the verifier, there), so that what the key holds by
// the time the URL is used, a replacement stored since, is not what it
// serves. A bucket without versioning has no version to name.
func TestDownloadURLNamesTheVersionChecked(t *testing.T) {
	key := "uploads/" + api.CallerID(issuer, "alice") + "/" + strings.Repeat("0", 26) + "-ok.png"
	const version = "3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY"
	for _, tc := range []struct {
		name     string
		verified bool
		versions map[string]string
		want     string
	}{
		{"verified by its tags", true, map[string]string{key: version}, version},
		{"without the verifier", false, map[string]string{key: version}, version},
		{"verified, on a bucket without versioning", true, nil, ""},
		{"without the verifier, on a bucket without versioning", false, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{objects: map[string][]byte{key: {1}}, versions: tc.versions,
				tags: map[string]map[string]string{key: {api.StatusTag: api.StatusVerified}}}
			h, _ := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: tc.verified}, fake)
			out := decodeJSON[api.DownloadURLResponse](t, call(t, h, as(apiRequest("POST", "/download-url", "", nil, `{"fileKey":"`+key+`"}`), "alice", true)))
			u, err := url.Parse(out.DownloadURL)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := u.Query()["versionId"]; tc.want == "" && ok || tc.want != "" && (len(got) != 1 || got[0] != tc.want) {
				t.Errorf("download URL %s names version %q, want %q", out.DownloadURL, got, tc.want)
			}
			if u.Query().Get("response-content-disposition") != "attachment; filename=ok.png" {
				t.Errorf("download URL %s lost its disposition", out.DownloadURL)
			}
		})
	}
}
