package uploadapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/presigned-upload/presigned-upload/api"
)

// ledgerOf decodes the ledger the fake bucket holds for caller.
func ledgerOf(t *testing.T, f *fakeS3, caller string) map[string]any {
	t.Helper()
	var l map[string]any
	if b, ok := f.objects[api.DefaultQuotaPrefix+caller]; ok {
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// Each way of uploading reserves what it may store, in its caller's
// ledger: a PUT its signed size, a form its range's maximum, a multipart
// upload its declared size as a session. Without quotas no ledger is read
// or written.
func TestQuotaReservations(t *testing.T) {
	quotas := api.UploadSettings{QuotaBytes: 1 << 30, SignIn: true, Verified: true, MaxFileSize: 8 << 20}
	for _, tc := range []struct {
		name      string
		settings  api.UploadSettings
		req       func() events.APIGatewayProxyRequest
		reserved  float64
		multipart bool
	}{
		{"a PUT reserves its signed size", quotas, func() events.APIGatewayProxyRequest {
			return apiRequest("POST", "/get-upload-url", "", nil, `{"fileName":"a.txt","contentType":"text/plain","size":1234}`)
		}, 1234, false},
		{"a form reserves its range's maximum", quotas, func() events.APIGatewayProxyRequest {
			return apiRequest("POST", "/get-upload-form", "", nil, `{"fileName":"a.txt","contentType":"text/plain"}`)
		}, 8 << 20, false},
		{"a multipart upload reserves its declared size", quotas, func() events.APIGatewayProxyRequest {
			return apiRequest("POST", "/multipart", "", nil, `{"fileName":"a.bin","contentType":"application/octet-stream","size":6291456}`)
		}, 6 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeS3{objects: map[string][]byte{}}
			h, _ := newS3Handler(t, tc.settings, fake)
			resp := call(t, h, as(tc.req(), "alice", true))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, resp.Body)
			}
			l := ledgerOf(t, fake, api.CallerID(issuer, "alice"))
			rs, _ := l["reservations"].(map[string]any)
			if len(rs) != 1 {
				t.Fatalf("ledger = %v, want one reservation", l)
			}
			for _, r := range rs {
				r := r.(map[string]any)
				if r["bytes"] != tc.reserved || (r["multipart"] == true) != tc.multipart {
					t.Errorf("reservation = %v, want %v bytes, multipart %v", r, tc.reserved, tc.multipart)
				}
			}
		})
	}
	t.Run("without quotas no ledger", func(t *testing.T) {
		fake := &fakeS3{objects: map[string][]byte{}}
		h, _ := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: true}, fake)
		resp := call(t, h, as(apiRequest("POST", "/get-upload-url", "", nil, `{"fileName":"a.txt","contentType":"text/plain"}`), "alice", true))
		if resp.StatusCode != 200 || len(fake.objects) != 0 {
			t.Errorf("status %d, objects %v", resp.StatusCode, fake.objects)
		}
		wantError(t, call(t, h, as(apiRequest("GET", "/quota", "", nil, ""), "alice", true)), 404, "NotFound", "no route")
	})
	t.Run("with a bytes quota every URL signs its size", func(t *testing.T) {
		h, _ := newS3Handler(t, quotas, &fakeS3{objects: map[string][]byte{}})
		wantError(t, call(t, h, as(apiRequest("POST", "/get-upload-url", "", nil, `{"fileName":"a.txt","contentType":"text/plain"}`), "alice", true)),
			400, "BadRequest", "size is required")
	})
}

// The tier a caller's token names picks its limits; an unknown tier, or
// none, gets the default ones.
func TestQuotaTiers(t *testing.T) {
	s := api.UploadSettings{SignIn: true, Verified: true, QuotaBytes: 10, QuotaTierClaim: "custom:tier",
		QuotaTiers: map[string]api.QuotaLimits{"pro": {Bytes: 1000}}}
	for _, tc := range []struct {
		name, tier string
		cognito    bool
		want       api.QuotaResponse
	}{
		{"a Cognito claim", "pro", true, api.QuotaResponse{Tier: "pro", Limits: api.QuotaLimits{Bytes: 1000}}},
		{"the OIDC authorizer's context", "pro", false, api.QuotaResponse{Tier: "pro", Limits: api.QuotaLimits{Bytes: 1000}}},
		{"a tier the settings do not know", "gold", true, api.QuotaResponse{Limits: api.QuotaLimits{Bytes: 10}}},
		{"no tier", "", true, api.QuotaResponse{Limits: api.QuotaLimits{Bytes: 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newS3Handler(t, s, &fakeS3{objects: map[string][]byte{}})
			req := as(apiRequest("GET", "/quota", "", nil, ""), "alice", tc.cognito)
			if tc.tier != "" {
				auth := req.RequestContext.Authorizer
				if claims, ok := auth["claims"].(map[string]any); ok {
					auth = claims
				}
				auth["custom:tier"] = tc.tier
			}
			got := decodeJSON[api.QuotaResponse](t, call(t, h, req))
			if got.Tier != tc.want.Tier || got.Limits != tc.want.Limits {
				t.Errorf("quota = %+v, want tier %q with %+v", got, tc.want.Tier, tc.want.Limits)
			}
		})
	}
}

// A per-day refusal says when to try again, in a header a page on another
// origin may read.
func TestQuotaRefusalRetryAfter(t *testing.T) {
	h, _ := newS3Handler(t, api.UploadSettings{Verified: true, QuotaFilesPerDay: 1}, &fakeS3{objects: map[string][]byte{}})
	req := func() events.APIGatewayProxyRequest {
		r := apiRequest("POST", "/get-upload-url", "", nil, `{"fileName":"a.txt","contentType":"text/plain"}`)
		r.Headers = map[string]string{"Origin": "https://app.example"}
		return r
	}
	if resp := call(t, h, req()); resp.StatusCode != 200 {
		t.Fatalf("first = %d %s", resp.StatusCode, resp.Body)
	}
	resp := call(t, h, req())
	wantError(t, resp, 429, api.CodeQuotaExceeded, "your quota of uploads today has 0 of 1 left")
	if s, err := strconv.Atoi(resp.Headers["Retry-After"]); err != nil || s < 1 || s > 86400 {
		t.Errorf("Retry-After = %q", resp.Headers["Retry-After"])
	}
	if resp.Headers["Access-Control-Expose-Headers"] != "Retry-After" {
		t.Errorf("headers = %v, want Retry-After exposed", resp.Headers)
	}
}

// A reconcile that lists a file whose URL's reservation is still open
// (stored, not yet settled) counts it as reserved only, not twice.
func TestReconcileCountsAPendingFileOnce(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}}
	h, logs := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: true, QuotaBytes: 1 << 30}, fake)
	defer func() {
		if t.Failed() {
			t.Log(logs)
		}
	}()
	issued := decodeJSON[api.UploadURLResponse](t, call(t, h, as(apiRequest("POST", "/get-upload-url", "", nil,
		`{"fileName":"a.txt","contentType":"text/plain","size":1234}`), "alice", true)))
	fake.objects[issued.FileKey] = make([]byte, 1234)
	got := decodeJSON[api.QuotaResponse](t, call(t, h, as(apiRequest("POST", "/quota/reconcile", "", nil, ""), "alice", true)))
	if got.Usage.StoredBytes != 0 || got.Usage.ReservedBytes != 1234 || got.Usage.Bytes != 1234 {
		t.Errorf("usage = %+v, want 1234 bytes reserved and none stored", got.Usage)
	}
}

// Under the quarantine of a verified deployment the function may not read
// an unverified object, yet its owner may delete it: a delete with quotas
// finds the object by listing it, gives back a verified file's size and
// nothing for a pending or rejected one.
func TestQuotaDeleteUnderQuarantine(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}, tags: map[string]map[string]string{}, quarantine: true}
	h, _ := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: true, QuotaBytes: 1 << 30}, fake)
	ledger := api.DefaultQuotaPrefix + api.CallerID(issuer, "alice")
	fake.objects[ledger] = []byte(`{"storedBytes":100}`)
	for _, tc := range []struct {
		status string
		stored float64
	}{
		{"", 100}, // pending
		{api.StatusRejected, 100},
		{api.StatusVerified, 90},
	} {
		issued := decodeJSON[api.UploadURLResponse](t, call(t, h, as(apiRequest("POST", "/get-upload-url", "", nil,
			`{"fileName":"a.txt","contentType":"text/plain","size":10}`), "alice", true)))
		fake.objects[issued.FileKey] = make([]byte, 10)
		if tc.status != "" {
			fake.tags[issued.FileKey] = map[string]string{api.StatusTag: tc.status}
		}
		resp := call(t, h, as(apiRequest("DELETE", "/files", "", map[string]string{"fileKey": issued.FileKey}, ""), "alice", true))
		if resp.StatusCode != 204 || fake.objects[issued.FileKey] != nil {
			t.Errorf("delete of a %q file = %d %s", tc.status, resp.StatusCode, resp.Body)
		}
		if got := ledgerOf(t, fake, api.CallerID(issuer, "alice"))["storedBytes"]; got != tc.stored {
			t.Errorf("after deleting a %q file the ledger stores %v, want %v", tc.status, got, tc.stored)
		}
	}
}

// A reconcile whose function is about to run out of time answers Busy
// rather than leave the gateway to time out.
func TestReconcileNearTheDeadline(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{}}
	h, _ := newS3Handler(t, api.UploadSettings{SignIn: true, Verified: true, QuotaBytes: 1 << 30}, fake)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := h.Handle(ctx, as(apiRequest("POST", "/quota/reconcile", "", nil, ""), "alice", true))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, resp, 503, api.CodeBusy, "try again")
	if len(fake.listObjects) != 0 {
		t.Errorf("listed %d pages with less than a second left", len(fake.listObjects))
	}
}
