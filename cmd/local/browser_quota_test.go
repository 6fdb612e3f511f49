package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// shownQuota is what the page shows of the quota.
type shownQuota struct {
	Hidden   bool
	InFiles  bool // under "Your files", not under the drop zone
	Label    string
	Items    []string
	LiveRole string
}

const shownQuotaJS = `(() => { const q = document.querySelector("#quota");
	return {Hidden: q.hidden, InFiles: !!q.closest("#files"), Label: q.querySelector("#quota-label").textContent,
		Items: [...q.querySelectorAll("#quota-usage li")].map((li) => li.textContent), LiveRole: q.getAttribute("role") || ""}; })()`

// awaitQuota waits until the page shows the quota with exactly items, and
// returns what it shows.
func awaitQuota(t *testing.T, ctx context.Context, items ...string) shownQuota {
	t.Helper()
	want := `(() => { const q = ` + shownQuotaJS + `; return !q.Hidden && JSON.stringify(q.Items) === ` + jsString(jsonString(items)) + `; })()`
	if err := chromedp.Run(ctx, chromedp.Poll(want, nil, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		var got shownQuota
		_ = chromedp.Run(ctx, chromedp.Evaluate(shownQuotaJS, &got))
		t.Fatalf("the page shows the quota as %+v, want items %q", got, items)
	}
	var got shownQuota
	if err := chromedp.Run(ctx, chromedp.Evaluate(shownQuotaJS, &got)); err != nil {
		t.Fatal(err)
	}
	return got
}

func jsonString(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = jsString(s)
	}
	return "[" + strings.Join(quoted, ",") + "]"
}

// pickNotes chooses a text file of size bytes named name in the page.
func pickNotes(t *testing.T, ctx context.Context, name string, size int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, notes(size), 0o644); err != nil {
		t.Fatal(err)
	}
	pick(t, ctx, path)
}

// Without sign-in the page shows the quota every caller shares under the
// drop zone, refreshed after each upload, and an upload over it says why
// on its row.
func TestBrowserQuota(t *testing.T) {
	ctx := browser(t)
	p := startForQuota(t, "quota")
	openPage(t, ctx, p)

	t.Run("the usage shows under the drop zone, in a status region", func(t *testing.T) {
		got := awaitQuota(t, ctx, "0 B of 3.0 MiB stored", "0 of 4 uploads today (UTC)")
		if got.InFiles || got.Label != "Quota, shared by everyone using this API:" || got.LiveRole != "status" {
			t.Errorf("quota shown as %+v; want it outside Your files, labelled as shared, with role status", got)
		}
		var after string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#drop-zone").nextElementSibling.id`, &after)); err != nil || after != "quota" {
			t.Errorf("after the drop zone comes #%s, want #quota (%v)", after, err)
		}
	})
	t.Run("an upload counts, settled as stored once verified", func(t *testing.T) {
		pickNotes(t, ctx, "notes.txt", 1<<20)
		if r := finished(t, ctx); !strings.Contains(r.Class, "done") {
			t.Fatalf("row = %+v, want a success", r)
		}
		awaitQuota(t, ctx, "1.0 MiB of 3.0 MiB stored", "1 of 4 uploads today (UTC)")
	})
	t.Run("an upload over the stored bytes says what is left on its row", func(t *testing.T) {
		pickNotes(t, ctx, "big.txt", 3<<20)
		r := finished(t, ctx)
		if want := "Over quota: your stored-bytes quota has 2.0 MiB of 3.0 MiB left; this file needs 3.0 MiB."; !strings.Contains(r.Class, "failed") || r.Status != want {
			t.Errorf("row = %+v, want it failed saying %q", r, want)
		}
		var code string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector(".upload:last-child").dataset.code`, &code)); err != nil || code != "QuotaExceeded" {
			t.Errorf("row's code %q, want QuotaExceeded (%v)", code, err)
		}
		awaitQuota(t, ctx, "1.0 MiB of 3.0 MiB stored", "1 of 4 uploads today (UTC)")
	})
	t.Run("an upload over the uploads a day says when the day starts afresh", func(t *testing.T) {
		for i, shown := range []string{"2 of 4 uploads today (UTC)", "3 of 4 uploads today (UTC)", "4 of 4 uploads today (UTC)"} {
			pickNotes(t, ctx, "small.txt", 100)
			if r := finished(t, ctx); !strings.Contains(r.Class, "done") {
				t.Fatalf("upload %d: row = %+v, want a success", i+2, r)
			}
			awaitQuota(t, ctx, "1.0 MiB of 3.0 MiB stored", shown)
		}
		pickNotes(t, ctx, "small.txt", 100)
		r := finished(t, ctx)
		want := regexp.MustCompile(`^Over quota: today's number of uploads has 0 of 4 left; this file needs 1\. It starts afresh in (\d+ h)? ?(\d+ min)? \(midnight UTC\)\.$`)
		if !strings.Contains(r.Class, "failed") || !want.MatchString(r.Status) {
			t.Errorf("row = %+v, want it failed saying it matches %s", r, want)
		}
	})
	t.Run("narrow screen: no sideways scrolling with the quota shown", func(t *testing.T) {
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
}

// With sign-in the quota shows under "Your files", is the caller's own, and
// follows each upload and delete; the module's reconcileQuota recounts it.
func TestBrowserQuotaSignIn(t *testing.T) {
	ctx := browser(t)
	p := startForQuota(t, "quotasignin", "-oidc-addr", "127.0.0.1:0")
	acceptDialogs(ctx)
	openPage(t, ctx, p)

	signInOnPage(t, ctx, "alice")
	t.Run("signed in, the caller's usage shows under Your files", func(t *testing.T) {
		got := awaitQuota(t, ctx, "0 B of 3.0 MiB stored")
		if !got.InFiles || got.Label != "Your quota:" {
			t.Errorf("quota shown as %+v; want it in Your files, labelled as the caller's", got)
		}
	})
	var more string
	t.Run("each upload counts", func(t *testing.T) {
		pickNotes(t, ctx, "notes.txt", 1<<20)
		if r := finished(t, ctx); !strings.Contains(r.Class, "done") {
			t.Fatalf("row = %+v, want a success", r)
		}
		awaitQuota(t, ctx, "1.0 MiB of 3.0 MiB stored")
		pickNotes(t, ctx, "more.txt", 1<<20)
		r := finished(t, ctx)
		if !strings.Contains(r.Class, "done") {
			t.Fatalf("row = %+v, want a success", r)
		}
		more = r.FileKey
		awaitQuota(t, ctx, "2.0 MiB of 3.0 MiB stored")
	})
	t.Run("a delete gives its bytes back", func(t *testing.T) {
		if more == "" {
			t.Skip("no file uploaded")
		}
		awaitListed(t, ctx, "more.txt")
		if err := chromedp.Run(ctx, chromedp.Click(`.file[data-file-key=`+jsString(more)+`] .delete`, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		awaitQuota(t, ctx, "1.0 MiB of 3.0 MiB stored")
	})
	t.Run("reconcileQuota() recounts the caller's files", func(t *testing.T) {
		var got struct {
			Usage struct{ StoredBytes int64 }
		}
		evalJS(t, ctx, `import("./client/index.js").then((m) => m.createClient({apiUrl: `+jsString(p.API)+`,
			getToken: () => JSON.parse(sessionStorage.getItem("signin:tokens")).accessToken}).reconcileQuota())`, &got)
		if got.Usage.StoredBytes != 1<<20 {
			t.Errorf("reconciled stored bytes %d, want alice's one file's %d", got.Usage.StoredBytes, 1<<20)
		}
	})
	t.Run("signed out, no quota shows", func(t *testing.T) {
		err := chromedp.Run(ctx, chromedp.Click(`#sign-in`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector("#quota").hidden`, nil, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Errorf("the quota still shows after sign-out: %v", err)
		}
	})
	t.Run("another caller sees its own usage", func(t *testing.T) {
		signInOnPage(t, ctx, "bob")
		awaitQuota(t, ctx, "0 B of 3.0 MiB stored")
	})
}
