package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// quotaEnvironments are the cdk.json settings the client module and the
// page are tested under with quotas: 3 MiB stored and 4 uploads a day,
// shared by every caller without sign-in; 3 MiB each with it.
const quotaEnvironments = `{"context": {"environments": {
  "quota":       {"allowedOrigins": ["*"], "partSize": 5242880, "quotaBytes": 3145728, "quotaFilesPerDay": 4},
  "quotasignin": {"allowedOrigins": ["*"], "partSize": 5242880, "quotaBytes": 3145728, "cognito": {}}
}}}`

// startForQuota runs local mode in env, one of quotaEnvironments, serving
// the upload page with the client module's test page next to it; files
// from 8 MiB go up in parts.
func startForQuota(t *testing.T, env string, extra ...string) *localProc {
	t.Helper()
	cdk := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(cdk, []byte(quotaEnvironments), 0o644); err != nil {
		t.Fatal(err)
	}
	web := t.TempDir()
	copyTree(t, web, filepath.Join(repoRoot(), "web"))
	copyTree(t, web, filepath.Join(pkgDir, "testdata", "webclient"))
	return startLocal(t, env, cdk, append([]string{"-web", web, "-multipart-threshold", "8388608"}, extra...)...)
}

// notes returns n bytes of text, which the verifier passes as text/plain:
// only verified files count as stored.
func notes(n int) []byte {
	return []byte(strings.Repeat("a line of notes\n", n/16+1)[:n])
}

// jsRefusal is an upload's failure as quotaUploadJS reports it.
type jsRefusal struct {
	Name, Message, Code string
	Status              int
	Transient           bool
	IsUploadError       bool
	Quota               *api.QuotaRefusal
}

// quotaUploadJS uploads the file chosen in #file with a client of local
// mode's API made with opts, counting the API calls each route gets, and
// reports the failure in full. fakeBusy(n) has the next n calls for an
// upload URL answered 503 Busy, as the API answers when the caller's
// ledger changed under every attempt to update it: a contention the real
// server cannot be made to show on demand.
const quotaUploadJS = `
window.calls = {};
window.busy = 0;
const realFetch = window.fetch;
window.fetch = (url, init) => {
  const path = new URL(url, location.href).pathname;
  calls[path] = (calls[path] || 0) + 1;
  if (path === "/get-upload-url" && busy > 0) {
    busy--;
    return Promise.resolve(new Response(JSON.stringify({message: "too many uploads at once for this caller; try again", code: "Busy"}),
      {status: 503, headers: {"Content-Type": "application/json"}}));
  }
  return realFetch(url, init);
};
window.fakeBusy = (n) => { busy = n; };
window.quotaUpload = async (opts = {}) => {
  const c = presigned.createClient({ apiUrl: config.apiUrl, apiKey: config.apiKey, multipartThreshold: config.multipartThreshold, ...opts });
  const file = document.querySelector("#file").files[0];
  const steps = [];
  window.calls = {};
  try {
    const got = await c.upload(file, { onStep: (s) => steps.push(s.step) });
    return { got, steps, calls };
  } catch (err) {
    return { steps, calls, error: { name: err.name, message: err.message, code: String(err.code), status: err.status, transient: err.transient,
      isUploadError: err instanceof presigned.UploadError, quota: err.quota } };
  }
};
`

// The module's side of quotas: quota() answers the typed limits and usage,
// an upload over a limit rejects with the refusal and a readable message
// and is not tried again, and a Busy ledger is.
func TestWebClientQuota(t *testing.T) {
	ctx := browser(t)
	p := startForQuota(t, "quota")
	openReady(t, ctx, p.API+"/client.html")
	evalJS(t, ctx, quotaUploadJS, nil)

	type result struct {
		Got   struct{ FileKey string }
		Steps []string
		Calls map[string]int
		Error *jsRefusal
	}
	upload := func(t *testing.T, opts string) result {
		t.Helper()
		var r result
		evalJS(t, ctx, `quotaUpload(`+opts+`)`, &r)
		return r
	}
	quota := func(t *testing.T) (api.QuotaResponse, map[string]json.RawMessage) {
		t.Helper()
		var raw string
		evalJS(t, ctx, `presigned.createClient({apiUrl: config.apiUrl}).quota().then(JSON.stringify)`, &raw)
		var q api.QuotaResponse
		var whole struct{ Limits map[string]json.RawMessage }
		if json.Unmarshal([]byte(raw), &q) != nil || json.Unmarshal([]byte(raw), &whole) != nil {
			t.Fatalf("quota() = %s", raw)
		}
		return q, whole.Limits
	}
	refused := func(t *testing.T, r result, status int, want api.QuotaRefusal) {
		t.Helper()
		e := r.Error
		if e == nil {
			t.Fatalf("upload succeeded (%+v), want it refused over quota", r.Got)
		}
		if !e.IsUploadError || e.Name != "UploadError" || e.Code != api.CodeQuotaExceeded || e.Status != status || e.Transient {
			t.Errorf("error %+v, want a lasting UploadError %d QuotaExceeded", *e, status)
		}
		if e.Quota == nil {
			t.Fatalf("error %+v carries no refusal", *e)
		}
		got := *e.Quota
		if want.RetryAfter > 0 { // seconds to midnight UTC: a range, not a value
			if got.RetryAfter < 1 || got.RetryAfter > 86400 {
				t.Errorf("retryAfter %d, want 1 to 86400", got.RetryAfter)
			}
			got.RetryAfter = want.RetryAfter
		}
		if got != want {
			t.Errorf("refusal %+v, want %+v", *e.Quota, want)
		}
	}

	t.Run("quota() answers every limit, 0 for the unlimited ones, and the usage", func(t *testing.T) {
		q, limits := quota(t)
		want := api.QuotaLimits{Bytes: 3 << 20, FilesPerDay: 4}
		var keys []string
		for k := range limits {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if q.Limits != want || strings.Join(keys, ",") != "bytes,bytesPerDay,filesPerDay,sessions" {
			t.Errorf("limits %+v with keys %q, want %+v with all four", q.Limits, keys, want)
		}
		if q.Usage != (api.QuotaUsage{}) || q.Tier != "" {
			t.Errorf("usage %+v, tier %q; want nothing used, no tier", q.Usage, q.Tier)
		}
		resets, err := time.Parse(time.RFC3339, q.ResetsAt)
		if day, _ := time.Parse(time.DateOnly, q.Day); err != nil || !resets.Equal(day.AddDate(0, 0, 1)) {
			t.Errorf("day %q resets at %q, want the next midnight UTC", q.Day, q.ResetsAt)
		}
	})
	t.Run("503 Busy is tried again with backoff", func(t *testing.T) {
		chooseFile(t, ctx, "busy.txt", notes(1000))
		evalJS(t, ctx, `fakeBusy(2)`, nil)
		r := upload(t, `{}`)
		if r.Error != nil || r.Calls["/get-upload-url"] != 3 {
			t.Errorf("upload after two Busy answers: error %+v, %d calls for a URL; want success on the third", r.Error, r.Calls["/get-upload-url"])
		}
	})
	t.Run("503 Busy every time fails after the client's attempts", func(t *testing.T) {
		chooseFile(t, ctx, "busy.txt", notes(1000))
		evalJS(t, ctx, `fakeBusy(100)`, nil)
		defer evalJS(t, ctx, `fakeBusy(0)`, nil)
		r := upload(t, `{attempts: 3}`)
		if e := r.Error; e == nil || e.Code != api.CodeBusy || e.Status != 503 || !e.Transient || r.Calls["/get-upload-url"] != 3 {
			t.Errorf("error %+v after %d calls; want a transient 503 Busy after 3", r.Error, r.Calls["/get-upload-url"])
		}
	})
	t.Run("over the stored bytes: 403 with what is left, asked once", func(t *testing.T) {
		chooseFile(t, ctx, "notes.txt", notes(1<<20-1000))
		if r := upload(t, `{}`); r.Error != nil {
			t.Fatalf("upload within the quota: %+v", *r.Error)
		}
		chooseFile(t, ctx, "big.txt", notes(3<<20))
		r := upload(t, `{}`)
		refused(t, r, 403, api.QuotaRefusal{Dimension: api.QuotaBytes, Limit: 3 << 20, Used: 1 << 20, Remaining: 2 << 20, Needed: 3 << 20})
		if want := "Over quota: your stored-bytes quota has 2.0 MiB of 3.0 MiB left; this file needs 3.0 MiB."; r.Error.Message != want {
			t.Errorf("message %q, want %q", r.Error.Message, want)
		}
		if n := r.Calls["/get-upload-url"]; n != 1 {
			t.Errorf("%d calls for the URL, want 1", n)
		}
	})
	t.Run("a multipart upload over the stored bytes is refused at its start", func(t *testing.T) {
		chooseFile(t, ctx, "large.txt", notes(9<<20))
		r := upload(t, `{}`)
		refused(t, r, 403, api.QuotaRefusal{Dimension: api.QuotaBytes, Limit: 3 << 20, Used: 1 << 20, Remaining: 2 << 20, Needed: 9 << 20})
		if !slices.Equal(r.Steps, []string{"start"}) || r.Calls["/multipart"] != 1 {
			t.Errorf("steps %q, calls %v; want the start alone, once", r.Steps, r.Calls)
		}
	})
	t.Run("over the uploads a day: 429 saying when the day starts afresh, asked once", func(t *testing.T) {
		chooseFile(t, ctx, "small.txt", notes(100))
		for range 2 { // with busy.txt and notes.txt, the day's 4
			if r := upload(t, `{}`); r.Error != nil {
				t.Fatalf("upload within the quota: %+v", *r.Error)
			}
		}
		r := upload(t, `{}`)
		refused(t, r, 429, api.QuotaRefusal{Dimension: api.QuotaFilesPerDay, Limit: 4, Used: 4, Remaining: 0, Needed: 1, RetryAfter: 1})
		if want := regexp.MustCompile(`^Over quota: today's number of uploads has 0 of 4 left; this file needs 1\. It starts afresh in (\d+ h)? ?(\d+ min)? \(midnight UTC\)\.$`); !want.MatchString(r.Error.Message) {
			t.Errorf("message %q, want it to match %s", r.Error.Message, want)
		}
		if n := r.Calls["/get-upload-url"]; n != 1 {
			t.Errorf("%d calls for the URL, want 1: a 429 over quota is not tried again", n)
		}
	})
	t.Run("refusals count nothing", func(t *testing.T) {
		q, _ := quota(t)
		if q.Usage.FilesToday != 4 || q.Usage.Bytes != 1<<20+200 {
			t.Errorf("usage %+v, want the 4 uploads and their 1 MiB + 200 B alone", q.Usage)
		}
	})
	t.Run("reconcileQuota() is null without sign-in", func(t *testing.T) {
		var got string
		evalJS(t, ctx, `presigned.createClient({apiUrl: config.apiUrl}).reconcileQuota().then(JSON.stringify)`, &got)
		if got != "null" {
			t.Errorf("reconcileQuota() = %s, want null", got)
		}
	})
}
