package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/presigned-upload/presigned-upload/api"
)

// startForBrowserSignIn runs local mode for the page in an environment that
// signs callers in, with access tokens short-lived enough that the page
// refreshes its own while the test runs.
func startForBrowserSignIn(t *testing.T) *localProc {
	t.Helper()
	p := startLocal(t, "browsersignin", browserCDKJSON(t), "-web", filepath.Join(pkgDir, "..", "..", "web"),
		"-multipart-threshold", "8388608", "-oidc-addr", "127.0.0.1:0", "-token-ttl", "6s")
	if p.Issuer == "" {
		t.Fatal("the banner names no sign-in provider")
	}
	return p
}

// signInOnPage clicks Sign in, types user on the provider's login page and
// waits until the page, back from the provider, says who is signed in.
func signInOnPage(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#sign-in`, chromedp.ByQuery),
		chromedp.Click(`#sign-in`, chromedp.ByQuery),
		chromedp.WaitVisible(`#login_hint`, chromedp.ByQuery),
		chromedp.SendKeys(`#login_hint`, user, chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		// Back on the page, which shows the account once it has
		// exchanged the code.
		chromedp.WaitVisible(`body[data-ready="true"] #account-status`, chromedp.ByQuery))
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
	var status string
	if err := chromedp.Run(ctx, chromedp.Text(`#account-status`, &status, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if want := "Signed in as " + user; status != want {
		t.Fatalf("account status %q, want %q", status, want)
	}
}

// listedFiles waits until the page's list of the caller's files has loaded
// and returns the names it shows and the status line.
func listedFiles(t *testing.T, ctx context.Context) ([]string, string) {
	t.Helper()
	var got struct {
		Names  []string
		Status string
	}
	err := chromedp.Run(ctx,
		chromedp.Poll(`document.querySelector("#files").dataset.state === "ready"`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate(`({Names: [...document.querySelectorAll("#file-list .file .name")].map(e => e.textContent),
			Status: document.querySelector("#files-status").textContent})`, &got))
	if err != nil {
		t.Fatalf("list the files: %v", err)
	}
	return got.Names, got.Status
}

// awaitListed waits until the list shows name.
func awaitListed(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	js := `[...document.querySelectorAll("#file-list .file .name")].some(e => e.textContent === ` + jsString(name) + `)`
	if err := chromedp.Run(ctx, chromedp.Poll(js, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		names, status := listedFiles(t, ctx)
		t.Fatalf("%s never listed: the list shows %q, status %q", name, names, status)
	}
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// downloads saves the page's downloads in a directory and reports each as
// it completes.
type downloads struct {
	dir  string
	mu   sync.Mutex
	name map[string]string // GUID → the name the server suggested
	done chan string       // GUIDs
}

func watchDownloads(t *testing.T, ctx context.Context) *downloads {
	t.Helper()
	d := &downloads{dir: t.TempDir(), name: map[string]string{}, done: make(chan string, 10)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			d.mu.Lock()
			d.name[e.GUID] = e.SuggestedFilename
			d.mu.Unlock()
		case *cdpbrowser.EventDownloadProgress:
			if e.State == cdpbrowser.DownloadProgressStateCompleted {
				d.done <- e.GUID
			}
		}
	})
	// AllowAndName saves each download under its GUID, whatever its name.
	err := chromedp.Run(ctx, cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName).
		WithDownloadPath(d.dir).WithEventsEnabled(true))
	if err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return d
}

// next waits for a download to complete and returns its suggested name
// and its bytes.
func (d *downloads) next(t *testing.T) (string, []byte) {
	t.Helper()
	select {
	case guid := <-d.done:
		b, err := os.ReadFile(filepath.Join(d.dir, guid))
		if err != nil {
			t.Fatal(err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.name[guid], b
	case <-time.After(60 * time.Second):
		t.Fatal("no download completed within 60s")
		return "", nil
	}
}

// acceptDialogs answers every confirm() of the page with OK.
func acceptDialogs(ctx context.Context) {
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			// Not from the listener itself, which must not block.
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
}

func TestBrowserSignIn(t *testing.T) {
	ctx := browser(t)
	p := startForBrowserSignIn(t)
	dl := watchDownloads(t, ctx)
	acceptDialogs(ctx)
	openPage(t, ctx, p)

	t.Run("the sign-in settings come from local mode and the button is in the keyboard order", func(t *testing.T) {
		var got struct{ Issuer, ClientID string }
		if err := chromedp.Run(ctx, chromedp.Evaluate(`({Issuer: document.querySelector("#signin-issuer").value,
			ClientID: document.querySelector("#signin-client-id").value})`, &got)); err != nil {
			t.Fatal(err)
		}
		if got.Issuer != p.Issuer || got.ClientID != p.ClientID {
			t.Errorf("settings %+v, want issuer %s and client %s", got, p.Issuer, p.ClientID)
		}
		var order []string
		if err := chromedp.Run(ctx, chromedp.Focus("#api-url", chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		for range 4 {
			var id string
			if err := chromedp.Run(ctx, chromedp.KeyEvent("\t"), chromedp.Evaluate(`document.activeElement.id`, &id)); err != nil {
				t.Fatal(err)
			}
			order = append(order, id)
		}
		if want := "api-key,signin-settings,sign-in,file-input"; strings.Join(order, ",") != want {
			t.Errorf("Tab from the endpoint reaches %v, want %s", order, want)
		}
	})
	t.Run("signed out: no files, and an upload asks to sign in", func(t *testing.T) {
		var hidden bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#files").hidden`, &hidden)); err != nil {
			t.Fatal(err)
		}
		if !hidden {
			t.Error("the files list shows while nobody is signed in")
		}
		path, _ := randomFile(t, "early.txt", 100)
		pick(t, ctx, path)
		if r := finished(t, ctx); !strings.Contains(r.Class, "failed") || !strings.Contains(r.Status, "Sign in first") {
			t.Errorf("row = %+v, want a request to sign in", r)
		}
	})

	signInOnPage(t, ctx, "alice")
	alice := api.CallerID(p.Issuer, "alice")
	var keep, gone string // the keys of alice's two files
	keepData := []byte{}

	t.Run("tokens stay in sessionStorage and are refreshed before they expire", func(t *testing.T) {
		var first string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`JSON.parse(sessionStorage.getItem("signin:tokens")).accessToken`, &first)); err != nil {
			t.Fatal(err)
		}
		// The provider's tokens last 6 seconds: the page refreshes its own
		// before then, without a call to trigger it.
		err := chromedp.Run(ctx, chromedp.Poll(`JSON.parse(sessionStorage.getItem("signin:tokens")).accessToken !== `+jsString(first), nil,
			chromedp.WithPollingTimeout(60*time.Second)))
		if err != nil {
			t.Fatalf("the access token was never refreshed: %v", err)
		}
		var inLocal bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`JSON.stringify(localStorage).includes(`+jsString(first[:20])+`)`, &inLocal)); err != nil {
			t.Fatal(err)
		}
		if inLocal {
			t.Error("a token is in localStorage")
		}
	})
	t.Run("an upload goes under the caller's prefix and shows in Your files", func(t *testing.T) {
		// Text, as its name says: the verifier rejects random bytes sent as
		// text/plain, and only verified files download.
		data := bytes.Repeat([]byte("a line of notes\n"), 6400)
		path := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") || !strings.HasPrefix(r.FileKey, "uploads/"+alice+"/") {
			t.Fatalf("row = %+v, want a success under uploads/%s/", r, alice)
		}
		keep, keepData = r.FileKey, data
		awaitListed(t, ctx, "notes.txt")
	})
	t.Run("each upload shows the verifier's outcome", func(t *testing.T) {
		outcome := func(key string) string {
			t.Helper()
			js := `(() => { const li = [...document.querySelectorAll(".upload")].find(e => e.dataset.fileKey === ` + jsString(key) + `);
				return li ? (li.dataset.outcome || "") : ""; })()`
			if err := chromedp.Run(ctx, chromedp.Poll(js+` !== ""`, nil, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
				t.Fatalf("no outcome shown for %s: %v", key, err)
			}
			var got, status string
			_ = chromedp.Run(ctx, chromedp.Evaluate(js, &got),
				chromedp.Evaluate(`[...document.querySelectorAll(".upload")].find(e => e.dataset.fileKey === `+jsString(key)+`).querySelector(".status").textContent`, &status))
			return got + ": " + status
		}
		if got := outcome(keep); !strings.HasPrefix(got, "verified: ") || !strings.Contains(got, "Verified") {
			t.Errorf("text upload shows %q, want Verified", got)
		}
		// HTML named .png: the page sends image/png, the verifier sniffs HTML.
		html := filepath.Join(t.TempDir(), "page.png")
		if err := os.WriteFile(html, []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), 0o644); err != nil {
			t.Fatal(err)
		}
		pick(t, ctx, html)
		r := finished(t, ctx)
		if got := outcome(r.FileKey); !strings.HasPrefix(got, "rejected: ") || !strings.Contains(got, "Rejected: active-content") {
			t.Errorf("HTML as PNG shows %q, want Rejected: active-content", got)
		}
		// Out of the way of the list checks below (the lifecycle rule
		// deletes a rejected file when deployed).
		if err := os.Remove(p.stored(r.FileKey)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a multipart upload, too", func(t *testing.T) {
		path, data := randomFile(t, "big.bin", 20<<20)
		pick(t, ctx, path)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") || r.Parts == "" || !strings.HasPrefix(r.FileKey, "uploads/"+alice+"/") {
			t.Fatalf("row = %+v, want a multipart success", r)
		}
		if got, err := os.ReadFile(p.stored(r.FileKey)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("stored bytes differ (%v)", err)
		}
		gone = r.FileKey
		awaitListed(t, ctx, "big.bin")
	})
	t.Run("Download saves the file under its name", func(t *testing.T) {
		if keep == "" {
			t.Skip("no file uploaded")
		}
		if err := chromedp.Run(ctx, chromedp.Click(`.file[data-file-key=`+jsString(keep)+`] .download`, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		name, got := dl.next(t)
		if name != "notes.txt" || !bytes.Equal(got, keepData) {
			t.Errorf("downloaded %q (%d bytes, equal: %v), want notes.txt with the uploaded bytes", name, len(got), bytes.Equal(got, keepData))
		}
		var ready bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.body.dataset.ready === "true" && !!document.querySelector("#file-list .file")`, &ready)); err != nil || !ready {
			t.Errorf("the page did not stay put while downloading (%v)", err)
		}
	})
	t.Run("Delete of a file replaced since it was listed keeps it, says so and lists the files anew", func(t *testing.T) {
		if keep == "" {
			t.Skip("no file uploaded")
		}
		replaced := []byte("replaced since it was listed\n")
		if _, err := bucketOf(p).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("presigned-upload-browsersignin"),
			Key: aws.String(keep), Body: bytes.NewReader(replaced), ContentType: aws.String("text/plain")}); err != nil {
			t.Fatal(err)
		}
		const said = "notes.txt was replaced since the list was loaded, so it was not deleted."
		err := chromedp.Run(ctx,
			chromedp.Click(`.file[data-file-key=`+jsString(keep)+`] .delete`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector("#files-status").textContent.startsWith(`+jsString(said)+`)`, nil,
				chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			_, status := listedFiles(t, ctx)
			t.Fatalf("the page says %q, want %q: %v", status, said, err)
		}
		if names, _ := listedFiles(t, ctx); !slices.Contains(names, "notes.txt") {
			t.Errorf("listed %q after the refused delete, want notes.txt still there", names)
		}
		if got, err := os.ReadFile(p.stored(keep)); err != nil || !bytes.Equal(got, replaced) {
			t.Errorf("the replacement was not kept: %q (%v)", got, err)
		}
	})
	t.Run("Delete, confirmed, removes the file", func(t *testing.T) {
		if gone == "" {
			t.Skip("no file uploaded")
		}
		err := chromedp.Run(ctx,
			chromedp.Click(`.file[data-file-key=`+jsString(gone)+`] .delete`, chromedp.ByQuery),
			chromedp.Poll(`!document.querySelector(".file[data-file-key=`+strings.ReplaceAll(jsString(gone), `"`, `\"`)+`]")`, nil,
				chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p.stored(gone)); !os.IsNotExist(err) {
			t.Errorf("the deleted file is still stored (%v)", err)
		}
		names, _ := listedFiles(t, ctx)
		if strings.Join(names, ",") != "notes.txt" {
			t.Errorf("listed %q after the delete, want notes.txt only", names)
		}
	})
	t.Run("narrow screen: no sideways scrolling with the files listed", func(t *testing.T) {
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
	t.Run("Sign out forgets the tokens and hides the files", func(t *testing.T) {
		var got struct {
			Status, Button string
			Hidden, Tokens bool
		}
		err := chromedp.Run(ctx,
			chromedp.Click(`#sign-in`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector("#sign-in").textContent === "Sign in"`, nil, chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Evaluate(`({Status: document.querySelector("#account-status").textContent, Button: document.querySelector("#sign-in").textContent,
				Hidden: document.querySelector("#files").hidden, Tokens: sessionStorage.getItem("signin:tokens") !== null})`, &got))
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "Not signed in." || !got.Hidden || got.Tokens {
			t.Errorf("after sign-out: %+v, want not signed in, files hidden, no tokens", got)
		}
	})
	t.Run("bob signs in and sees none of alice's files", func(t *testing.T) {
		signInOnPage(t, ctx, "bob")
		names, status := listedFiles(t, ctx)
		if len(names) != 0 || status != "No files yet." {
			t.Errorf("bob's list shows %q, status %q; want it empty", names, status)
		}
		if _, err := os.Stat(p.stored(keep)); err != nil {
			t.Errorf("alice's file is gone: %v", err)
		}
	})
}
