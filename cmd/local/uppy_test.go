package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// uppyApp bundles the Uppy test app (testdata/uppy) with esbuild from
// node_modules, serves it on an origin of its own against local mode, and
// opens it.
func uppyApp(t *testing.T, ctx context.Context, p *localProc) {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, dir, filepath.Join(pkgDir, "testdata", "uppy"))
	esbuild(t, dir, "app.js", "--bundle", "--format=esm", "--log-level=warning", "--outdir=.", "--allow-overwrite")
	srv := appServer(t, dir, p)
	openReady(t, ctx, srv.URL+"/index.html")
}

// addToDashboard chooses a file in the Dashboard's file picker.
func addToDashboard(t *testing.T, ctx context.Context, name string, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Run(ctx, chromedp.SetUploadFiles(`input.uppy-Dashboard-input[name="files[]"]:not([webkitdirectory])`, []string{path}, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("add %s to the Dashboard: %v", name, err)
	}
}

// click clicks the Dashboard's button sel once it is there.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	poll(t, ctx, `!!document.querySelector(`+jsString(sel)+`)`, 30*time.Second)
	evalJS(t, ctx, `document.querySelector(`+jsString(sel)+`).click()`, nil)
}

// uppyResult is what the test app recorded about one file.
type uppyResult struct {
	Key, Outcome, Reason string
	Error, Code          string
	Status               int
}

// result waits until the app has recorded the upload of name (and, for a
// success, the verifier's outcome).
func result(t *testing.T, ctx context.Context, name string) uppyResult {
	t.Helper()
	r := `results[` + jsString(name) + `]`
	poll(t, ctx, `!!`+r+` && (!!`+r+`.error || `+r+`.outcome !== undefined)`, 60*time.Second)
	var got uppyResult
	evalJS(t, ctx, r, &got)
	return got
}

// fileState evaluates an expression of Uppy's state of the file name, f.
func fileState(name, expr string) string {
	return `(() => { const f = uppy.getFiles().find((f) => f.name === ` + jsString(name) + `); return !!f && (` + expr + `); })()`
}

// partPUTs counts the PUTs of each part the browser sends to S3.
type partPUTs struct {
	mu    sync.Mutex
	count map[string]int // partNumber → requests
}

func watchPartPUTs(ctx context.Context, s3URL string) *partPUTs {
	w := &partPUTs{count: map[string]int{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request.Method == "PUT" && strings.HasPrefix(e.Request.URL, s3URL) {
			if u, err := url.Parse(e.Request.URL); err == nil && u.Query().Has("partNumber") {
				w.mu.Lock()
				w.count[u.Query().Get("partNumber")]++
				w.mu.Unlock()
			}
		}
	})
	return w
}

func (w *partPUTs) take() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.count
	w.count = map[string]int{}
	return c
}

func throttle(t *testing.T, ctx context.Context, bytesPerSecond float64) {
	t.Helper()
	if err := chromedp.Run(ctx, network.EmulateNetworkConditions(false, 0, -1, bytesPerSecond)); err != nil {
		t.Fatal(err)
	}
}

// TestUppyAdapter drives Uppy 6 (@uppy/core, @uppy/aws-s3 and
// @uppy/dashboard as the lockfile pins them) through its Dashboard, with
// the adapter in web/client/uppy.js, against local mode.
func TestUppyAdapter(t *testing.T) {
	ctx := browser(t)
	p := startForWebClient(t, t.TempDir())
	puts := watchPartPUTs(ctx, p.S3)
	if err := chromedp.Run(ctx, network.Enable()); err != nil {
		t.Fatal(err)
	}
	uppyApp(t, ctx, p)
	// checked: S3 holds the file's CRC64NVME, which it compared with the
	// adapter's.
	checked := func(t *testing.T, key string, data []byte) {
		t.Helper()
		if got, want := storedCRC64NVME(t, p, key), crcOf(data); got != want {
			t.Errorf("S3 holds checksum %q for %s, want the file's %q", got, key, want)
		}
	}
	startUpload := func(t *testing.T, name string, data []byte) {
		t.Helper()
		evalJS(t, ctx, `uppy.clear()`, nil) // earlier files out of the Dashboard
		addToDashboard(t, ctx, name, data)
		click(t, ctx, `.uppy-StatusBar-actionBtn--upload`)
	}

	t.Run("a small file in one PUT, under the API's key, with the verifier's outcome", func(t *testing.T) {
		data := bytes.Repeat([]byte("a line of notes\n"), 1000)
		startUpload(t, "notes.txt", data)
		r := result(t, ctx, "notes.txt")
		if r.Error != "" || !regexp.MustCompile(`^uploads/[0-9a-v]{26}-notes\.txt$`).MatchString(r.Key) || r.Outcome != "verified" {
			t.Fatalf("result %+v, want a verified upload under a key the API made", r)
		}
		p.wantStored(t, r.Key, data)
		checked(t, r.Key, data)
		if n := len(puts.take()); n != 0 {
			t.Errorf("%d part PUTs for a small file, want a single PUT", n)
		}
	})
	t.Run("a file the verifier rejects", func(t *testing.T) {
		// HTML named .png: Uppy sends image/png, the verifier sniffs HTML.
		startUpload(t, "page.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"))
		if r := result(t, ctx, "page.png"); r.Outcome != "rejected" || r.Reason != "active-content" {
			t.Errorf("result %+v, want rejected for active-content", r)
		}
	})
	t.Run("40 MiB in parts, paused and resumed from the Dashboard", func(t *testing.T) {
		_, data := randomFile(t, "x", 40<<20) // 8 parts of 5 MiB
		throttle(t, ctx, 8<<20)
		startUpload(t, "large.bin", data)
		poll(t, ctx, fileState("large.bin", `f.progress.percentage >= 30`), 60*time.Second)
		click(t, ctx, `.uppy-Dashboard-Item-progressIndicator[title="Pause upload"]`)
		poll(t, ctx, fileState("large.bin", `f.isPaused === true`), 30*time.Second)
		var before int
		evalJS(t, ctx, fileState("large.bin", `f.progress.bytesUploaded`), &before)
		throttle(t, ctx, -1)
		click(t, ctx, `.uppy-Dashboard-Item-progressIndicator[title="Resume upload"]`)
		r := result(t, ctx, "large.bin")
		if r.Error != "" || !strings.HasSuffix(r.Key, "-large.bin") || r.Outcome != "verified" {
			t.Fatalf("result %+v, want a verified success", r)
		}
		p.wantStored(t, r.Key, data)
		checked(t, r.Key, data)
		// Parts stored before the pause are not sent again: at most the one
		// cut by the pause is.
		sent, total := puts.take(), 0
		for n := 1; n <= 8; n++ {
			if sent[strconv.Itoa(n)] == 0 {
				t.Errorf("part %d never sent (PUTs per part: %v)", n, sent)
			}
			total += sent[strconv.Itoa(n)]
		}
		t.Logf("PUTs per part %v, %d bytes before the pause", sent, before)
		if total > 9 || len(sent) != 8 {
			t.Errorf("%d part PUTs for 8 parts (%v), %d bytes up before the pause: the resume sent finished parts again", total, sent, before)
		}
	})
	t.Run("removing a file aborts its upload in S3", func(t *testing.T) {
		_, data := randomFile(t, "x", 12<<20)
		throttle(t, ctx, 2<<20)
		defer throttle(t, ctx, -1)
		startUpload(t, "removed.bin", data)
		poll(t, ctx, fileState("removed.bin", `!!f.s3Multipart`), 30*time.Second)
		var state struct{ UploadID, Key string }
		evalJS(t, ctx, `uppy.getFiles().find((f) => f.name === "removed.bin").s3Multipart`, &state)
		click(t, ctx, `.uppy-Dashboard-Item-action--remove`)
		uploadGone(t, p, url.PathEscape(state.UploadID), url.QueryEscape(state.Key))
	})
	t.Run("a 412 from preventOverwrite shows in the Dashboard, leaves the object and aborts the upload", func(t *testing.T) {
		_, data := randomFile(t, "x", 12<<20)
		throttle(t, ctx, 2<<20)
		startUpload(t, "taken.bin", data)
		poll(t, ctx, fileState("taken.bin", `!!f.s3Multipart`), 30*time.Second)
		click(t, ctx, `.uppy-Dashboard-Item-progressIndicator[title="Pause upload"]`)
		poll(t, ctx, fileState("taken.bin", `f.isPaused === true`), 30*time.Second)
		var state struct{ UploadID, Key string }
		evalJS(t, ctx, `uppy.getFiles().find((f) => f.name === "taken.bin").s3Multipart`, &state)
		// Meanwhile an object gets the upload's key.
		first := []byte("stored first")
		_, err := bucketOf(p).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("presigned-upload-webclient"),
			Key: aws.String(state.Key), Body: bytes.NewReader(first)})
		if err != nil {
			t.Fatal(err)
		}
		throttle(t, ctx, -1)
		click(t, ctx, `.uppy-Dashboard-Item-progressIndicator[title="Resume upload"]`)
		r := result(t, ctx, "taken.bin")
		if r.Status != 412 || r.Code != "PreconditionFailed" {
			t.Errorf("result %+v, want the API's 412 PreconditionFailed", r)
		}
		var shown string
		poll(t, ctx, `!!document.querySelector(".uppy-Dashboard-Item.is-error .uppy-Dashboard-Item-errorDetails")`, 30*time.Second)
		evalJS(t, ctx, `document.querySelector(".uppy-Dashboard-Item.is-error .uppy-Dashboard-Item-errorDetails").getAttribute("aria-label")`, &shown)
		if !strings.Contains(shown, "preventOverwrite") || !strings.Contains(shown, "(412 PreconditionFailed)") {
			t.Errorf("the Dashboard shows %q, want the API's 412 message", shown)
		}
		p.wantStored(t, state.Key, first)
		// The API keeps an upload it would not complete, and Uppy forgets a
		// failed one: the adapter aborts it.
		uploadGone(t, p, url.PathEscape(state.UploadID), url.QueryEscape(state.Key))
	})
	t.Run("a part size other than the API's fails before any part is sent", func(t *testing.T) {
		evalJS(t, ctx, `uppy.clear()`, nil)
		var got struct{ Name, Code, Message string }
		evalJS(t, ctx, `(async () => {
			const o = awsS3Options(client, { partSize: 6 * 1024 * 1024 });
			const file = { id: "odd", name: "odd.bin", type: "application/octet-stream", data: new File([new Uint8Array(12 << 20)], "odd.bin") };
			try { await o.signRequest({ method: "POST", key: o.generateObjectKey(file) }); return {}; }
			catch (err) { return { name: err.name, code: err.code, message: err.message }; }
		})()`, &got)
		if got.Code != "PartSizeMismatch" || !strings.Contains(got.Message, "5242880") {
			t.Errorf("signRequest failed with %+v, want PartSizeMismatch naming the API's 5242880", got)
		}
	})
}
