package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// browserEnvironments are the cdk.json settings the page is tested under.
const browserEnvironments = `{"context": {"environments": {
  "browser":    {"allowedOrigins": ["*"], "partSize": 5242880, "allowedContentTypes": ["text/plain", "application/octet-stream"]},
  "browserkey": {"allowedOrigins": ["*"], "apiKeyRequired": true},
  "browsersignin": {"allowedOrigins": ["*"], "partSize": 5242880, "cognito": {}}
}}}`

// newBrowser starts Debian's Chromium headless with a fresh profile. On
// failure the test saves a screenshot and names its path.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a real browser")
	}
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run must install it")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	// A fresh profile; removed after Chromium exits, not by t.TempDir,
	// which would race with the browser's last writes.
	profile, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1000, 800),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			var png []byte
			if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 90)); err == nil {
				dir, _ := os.MkdirTemp("", "browser-failure-")
				p := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
				if os.WriteFile(p, png, 0o644) == nil {
					t.Logf("screenshot of the page: %s", p)
				}
			}
		}
		cancelTimeout()
		cancel()
		cancelAlloc()
		for range 20 {
			if os.RemoveAll(profile) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func browserCDKJSON(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(p, []byte(browserEnvironments), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func startForBrowser(t *testing.T, env string) *localProc {
	t.Helper()
	return startLocal(t, env, browserCDKJSON(t), "-web", filepath.Join(pkgDir, "..", "..", "web"), "-multipart-threshold", "8388608")
}

func randomFile(t *testing.T, name string, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// row is what the page shows for one upload.
type row struct {
	Class, Status, FileKey, Parts, Resumed string
}

// openPage loads the page served by local mode and waits until its
// settings are filled in.
func openPage(t *testing.T, ctx context.Context, p *localProc) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Navigate(p.API+"/"), chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
}

// pick chooses files in the page's file input.
func pick(t *testing.T, ctx context.Context, files ...string) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.SetUploadFiles("#file-input", files, chromedp.ByQuery)); err != nil {
		t.Fatalf("choose files: %v", err)
	}
}

// finished waits for the last upload row to succeed or fail.
func finished(t *testing.T, ctx context.Context) row {
	t.Helper()
	var r row
	err := chromedp.Run(ctx,
		chromedp.WaitVisible(`.upload:last-child:is(.done, .failed)`, chromedp.ByQuery),
		chromedp.Evaluate(`(() => { const li = document.querySelector(".upload:last-child");
			return {Class: li.className, Status: li.querySelector(".status").textContent, FileKey: li.dataset.fileKey || "",
			        Parts: li.dataset.parts || "", Resumed: li.dataset.resumedParts || ""}; })()`, &r))
	if err != nil {
		t.Fatalf("wait for the upload: %v", err)
	}
	return r
}

func TestBrowserUploads(t *testing.T) {
	ctx := browser(t)
	p := startForBrowser(t, "browser")
	openPage(t, ctx, p)

	t.Run("settings are filled in by local mode", func(t *testing.T) {
		var api string
		if err := chromedp.Run(ctx, chromedp.Value("#api-url", &api, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		if api != p.API {
			t.Errorf("API endpoint field = %q, want %q", api, p.API)
		}
	})
	t.Run("every input has a label and the keyboard reaches each", func(t *testing.T) {
		var unlabelled []string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("input")].filter(i => !i.labels || i.labels.length === 0).map(i => i.id)`, &unlabelled)); err != nil {
			t.Fatal(err)
		}
		if len(unlabelled) > 0 {
			t.Errorf("inputs without a label: %v", unlabelled)
		}
		var order []string
		if err := chromedp.Run(ctx, chromedp.Focus("#api-url", chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			var id string
			if err := chromedp.Run(ctx, chromedp.KeyEvent("\t"), chromedp.Evaluate(`document.activeElement.id`, &id)); err != nil {
				t.Fatal(err)
			}
			order = append(order, id)
		}
		if strings.Join(order, ",") != "api-key,signin-settings,file-input" {
			t.Errorf("Tab from the endpoint reaches %v, want the key field, the sign-in settings, then the file picker", order)
		}
	})
	t.Run("narrow screen: no sideways scrolling", func(t *testing.T) {
		var overflow bool
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(360, 740),
			chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
			chromedp.EmulateViewport(1000, 800)); err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Error("the page is wider than a 360 px screen")
		}
	})
	t.Run("small file as a single PUT", func(t *testing.T) {
		path, data := randomFile(t, "small.txt", 100<<10)
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") || r.Parts != "" || !strings.Contains(r.Status, "Uploaded as "+r.FileKey) {
			t.Fatalf("row = %+v, want a single-PUT success", r)
		}
		if got, err := os.ReadFile(p.stored(r.FileKey)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("stored bytes differ (%v)", err)
		}
	})
	t.Run("40 MiB file in parts", func(t *testing.T) {
		path, data := randomFile(t, "large.bin", 40<<20)
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") || r.Parts != "8" {
			t.Fatalf("row = %+v, want a multipart success in 8 parts", r)
		}
		if got, err := os.ReadFile(p.stored(r.FileKey)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("stored bytes differ (%v)", err)
		}
	})
	t.Run("disallowed content type shows the API's message", func(t *testing.T) {
		path, _ := randomFile(t, "page.html", 1000)
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "failed") || !strings.Contains(r.Status, `content type "text/html" is not allowed`) {
			t.Errorf("row = %+v, want the API's 415 message", r)
		}
	})
	t.Run("cancel aborts a multipart upload", func(t *testing.T) {
		path, _ := randomFile(t, "cancel.bin", 30<<20)
		if err := chromedp.Run(ctx, network.Enable(), network.EmulateNetworkConditions(false, 0, -1, 4<<20)); err != nil {
			t.Fatal(err)
		}
		pick(t, ctx, path)
		var uploadID, fileKey string
		err := chromedp.Run(ctx,
			chromedp.Poll(`Object.keys(localStorage).some(k => k.startsWith("upload:"))`, nil, chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Evaluate(`JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith("upload:")))).uploadId`, &uploadID),
			chromedp.Evaluate(`JSON.parse(localStorage.getItem(Object.keys(localStorage).find(k => k.startsWith("upload:")))).fileKey`, &fileKey),
			chromedp.Click(`.upload:last-child .cancel`, chromedp.ByQuery),
			network.EmulateNetworkConditions(false, 0, -1, -1))
		if err != nil {
			t.Fatal(err)
		}
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "failed") || r.Status != "Cancelled." {
			t.Errorf("row = %+v, want Cancelled.", r)
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(p.API + "/multipart/" + url.PathEscape(uploadID) + "/parts?fileKey=" + url.QueryEscape(fileKey))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 404 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the cancelled upload still exists in S3 (list parts = %d)", resp.StatusCode)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("reload mid-upload, pick the file again: it resumes", func(t *testing.T) {
		path, data := randomFile(t, "resume.bin", 60<<20) // 12 parts
		// Slow uploads down so that the reload lands mid-way.
		throttle := network.EmulateNetworkConditions(false, 0, -1, 12<<20)
		if err := chromedp.Run(ctx, network.Enable(), throttle); err != nil {
			t.Fatal(err)
		}
		pick(t, ctx, path)
		deadline := time.Now().Add(60 * time.Second)
		for {
			var pct float64
			if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector(".upload:last-child progress").value`, &pct)); err != nil {
				t.Fatal(err)
			}
			if pct >= 40 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("upload stuck at %.0f%%", pct)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery),
			network.EmulateNetworkConditions(false, 0, -1, -1)); err != nil {
			t.Fatal(err)
		}
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") || r.Resumed == "" || r.Resumed == "0" || !strings.Contains(r.Status, "Uploaded as") {
			t.Fatalf("row = %+v, want a resumed success", r)
		}
		if got, err := os.ReadFile(p.stored(r.FileKey)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("stored bytes differ (%v)", err)
		}
		var left string
		_ = chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify(Object.keys(localStorage).filter(k => k.startsWith("upload:")))`, &left))
		if left != "[]" {
			t.Errorf("resume state left in localStorage: %s", left)
		}
	})
}

func TestBrowserWrongAPIKey(t *testing.T) {
	ctx := browser(t)
	p := startForBrowser(t, "browserkey")
	openPage(t, ctx, p)
	path, _ := randomFile(t, "note.txt", 1000)
	if err := chromedp.Run(ctx, chromedp.SetValue("#api-key", "wrong-key", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	pick(t, ctx, path)
	r := finished(t, ctx)
	// A readable 403 proves the gateway error carried CORS headers: without
	// them the browser would only report a network failure.
	if !strings.Contains(r.Class, "failed") || !strings.Contains(r.Status, "Forbidden (403 INVALID_API_KEY)") {
		t.Errorf("row = %+v, want the API's Forbidden message", r)
	}
}
