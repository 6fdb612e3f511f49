package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// cspLog collects what Chromium logs about Content Security Policy: each
// blocked script, style or connection, and each source it cannot parse.
type cspLog struct {
	mu   sync.Mutex
	msgs []string
}

// watchCSP starts collecting ctx's Content Security Policy messages.
func watchCSP(t *testing.T, ctx context.Context) *cspLog {
	t.Helper()
	l := &cspLog{}
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "Content Security Policy") {
			l.mu.Lock()
			l.msgs = append(l.msgs, e.Entry.Text)
			l.mu.Unlock()
		}
	})
	if err := chromedp.Run(ctx, log.Enable()); err != nil {
		t.Fatalf("enable the log: %v", err)
	}
	return l
}

// take returns the messages collected so far and forgets them.
func (l *cspLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	msgs := l.msgs
	l.msgs = nil
	return msgs
}

// await waits for a message containing want and returns it.
func (l *cspLog) await(t *testing.T, want string) string {
	t.Helper()
	var seen []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		seen = append(seen, l.take()...)
		for _, m := range seen {
			if strings.Contains(m, want) {
				return m
			}
		}
	}
	t.Fatalf("no Content Security Policy message contains %q; got %q", want, seen)
	return ""
}

// browser is newBrowser, failing the test if the page breaks its Content
// Security Policy.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx := newBrowser(t)
	csp := watchCSP(t, ctx)
	t.Cleanup(func() {
		_ = chromedp.Run(ctx, chromedp.Evaluate(`0`, nil)) // a round trip, for reports still on their way
		if msgs := csp.take(); len(msgs) > 0 {
			t.Errorf("Content Security Policy violations:\n%s", strings.Join(msgs, "\n"))
		}
	})
	return ctx
}

// settle runs js in the page and waits for the promise it returns.
func settle(js string) chromedp.Action {
	return chromedp.Evaluate(js, nil, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })
}

// The page's own policy, served without local mode's header: each kind of
// violation is reported, so the browser tests would fail on one.
func TestBrowserReportsCSPViolations(t *testing.T) {
	web := filepath.Join(pkgDir, "..", "..", "web")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(web)); err != nil { // the page and its client module
		t.Fatal(err)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	if !strings.Contains(string(index), `http-equiv="Content-Security-Policy"`) {
		t.Fatal("web/index.html has no Content-Security-Policy meta tag")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	ctx := newBrowser(t)
	csp := watchCSP(t, ctx)

	for i, tc := range []struct {
		name     string
		old, new string // an edit of index.html
		js       string // run once the page is ready
		want     string // "": no violation
	}{
		{name: "the page as it is"},
		{name: "an https connection elsewhere is the page's to make", js: `fetch("https://127.0.0.1:1/").catch(() => {})`},
		{name: "inline script", old: "</body>", new: `<script>document.title = "inline";</script></body>`, want: "inline script"},
		{name: "style attribute", old: "<main>", new: `<main style="color: red">`, want: "inline style"},
		{name: "style element", old: "</head>", new: "<style>main { color: red; }</style></head>", want: "inline style"},
		{name: "an origin the policy does not list", js: `fetch("http://127.0.0.2:1/").catch(() => {})`, want: "Connecting to 'http://127.0.0.2:1/'"},
		{name: "an unparsable source", old: "http://127.0.0.1:*", new: "http://127.0.0.1:* http://[::1]:*", want: "invalid source: 'http://[::1]:*'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := "index.html"
			if tc.old != "" {
				page = fmt.Sprintf("variant-%d.html", i)
				if !strings.Contains(string(index), tc.old) {
					t.Fatalf("web/index.html lacks %q", tc.old)
				}
				edited := strings.Replace(string(index), tc.old, tc.new, 1)
				if err := os.WriteFile(filepath.Join(dir, page), []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			csp.take()
			actions := []chromedp.Action{chromedp.Navigate(srv.URL + "/" + page), chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery)}
			if tc.js != "" {
				actions = append(actions, settle(tc.js))
			}
			if err := chromedp.Run(ctx, actions...); err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				_ = chromedp.Run(ctx, chromedp.Evaluate(`0`, nil))
				if msgs := csp.take(); len(msgs) > 0 {
					t.Errorf("violations: %q", msgs)
				}
				return
			}
			csp.await(t, tc.want)
		})
	}
}

// Local mode's header narrows the page's policy to its own API and S3
// server, and keeps the page out of frames.
func TestBrowserLocalModeNarrowsCSP(t *testing.T) {
	ctx := newBrowser(t)
	csp := watchCSP(t, ctx)
	p := startForBrowser(t, "browser")
	openPage(t, ctx, p)
	if msgs := csp.take(); len(msgs) > 0 {
		t.Fatalf("the page breaks its policy: %q", msgs)
	}

	t.Run("https elsewhere is refused", func(t *testing.T) {
		if err := chromedp.Run(ctx, settle(`fetch("https://127.0.0.1:1/").catch(() => {})`)); err != nil {
			t.Fatal(err)
		}
		m := csp.await(t, "Connecting to 'https://127.0.0.1:1/'")
		if !strings.Contains(m, `"connect-src 'self' http://127.0.0.1:`) {
			t.Errorf("refused by %q; want local mode's connect-src, which names its S3 server", m)
		}
	})
	t.Run("no frames", func(t *testing.T) {
		framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `<!doctype html><iframe src="%s/"></iframe>`, p.API)
		}))
		t.Cleanup(framer.Close)
		if err := chromedp.Run(ctx, chromedp.Navigate(framer.URL)); err != nil {
			t.Fatal(err)
		}
		csp.await(t, "frame-ancestors 'none'")
	})
}

func TestPageCSPHeader(t *testing.T) {
	h := webHandler(filepath.Join(pkgDir, "..", "..", "web"), "", 1, 5<<20, "http://127.0.0.1:9000", nil)
	for _, path := range []string{"/", "/config.json"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		want := "connect-src 'self' http://127.0.0.1:9000; frame-ancestors 'none'"
		if got := rec.Header().Get("Content-Security-Policy"); rec.Code != 200 || got != want {
			t.Errorf("GET %s: %d, Content-Security-Policy %q; want 200, %q", path, rec.Code, got, want)
		}
	}
}
