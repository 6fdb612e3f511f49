package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// docBlocks returns the fenced code blocks of docs/web-app.md by their
// language, in order.
func docBlocks(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "web-app.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{}
	for _, m := range regexp.MustCompile("(?ms)^```(\\w+)\n(.*?)^```$").FindAllStringSubmatch(string(doc), -1) {
		blocks[m[1]] = append(blocks[m[1]], m[2])
	}
	return blocks
}

// The examples of "Use it from your web app" run as written: each page and
// script, bundled with the docs' esbuild command, served on an origin of
// its own with the docs' config.json from local mode, in Chromium, which
// fails the test on any Content Security Policy violation.
func TestWebAppDocExamples(t *testing.T) {
	blocks := docBlocks(t)
	if len(blocks["html"]) != 2 || len(blocks["js"]) != 3 || len(blocks["json"]) != 1 {
		t.Fatalf("docs/web-app.md has %d html, %d js and %d json blocks; want the module's and Uppy's page and script, the quota script, and config.json",
			len(blocks["html"]), len(blocks["js"]), len(blocks["json"]))
	}
	var build []string
	for _, block := range blocks["sh"] {
		for _, line := range strings.Split(block, "\n") {
			if args, ok := strings.CutPrefix(line, "npx esbuild "); ok {
				build = strings.Fields(args)
			}
		}
	}
	if build == nil {
		t.Fatal("docs/web-app.md has no npx esbuild command")
	}
	ctx := browser(t)
	p := startForWebClient(t, t.TempDir())

	t.Run("config.json has the settings local mode serves", func(t *testing.T) {
		var doc, served map[string]any
		if err := json.Unmarshal([]byte(blocks["json"][0]), &doc); err != nil {
			t.Fatalf("the docs' config.json: %v", err)
		}
		resp, err := http.Get(p.API + "/config.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
			t.Fatal(err)
		}
		var d, s []string
		for k := range doc {
			d = append(d, k)
		}
		for k := range served {
			s = append(s, k)
		}
		slices.Sort(d)
		slices.Sort(s)
		if !slices.Equal(d, s) {
			t.Errorf("the docs' config.json has %q, local mode's %q", d, s)
		}
	})

	// serveWith bundles the page of example i with script j, opens it
	// against local mode p and waits for ready, which shows once its script
	// has set up; serve opens example i, page and script, against p.
	serveWith := func(t *testing.T, p *localProc, i, j int, ready string) {
		t.Helper()
		dir := t.TempDir()
		for name, text := range map[string]string{"index.html": blocks["html"][i], "app.js": blocks["js"][j]} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		esbuild(t, dir, append(build, "--log-level=warning")...)
		err := chromedp.Run(ctx, chromedp.Navigate(appServer(t, dir, p).URL+"/index.html"), chromedp.WaitReady(ready, chromedp.ByQuery))
		if err != nil {
			t.Fatalf("open example %d: %v", i, err)
		}
	}
	serve := func(t *testing.T, i int, ready string) { t.Helper(); serveWith(t, p, i, i, ready) }
	text := []byte("plain text, as its name says\n")

	t.Run("the client module", func(t *testing.T) {
		serve(t, 0, `#file:not([disabled])`)
		path := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(path, text, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Run(ctx, chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, `/: (verified|rejected|stored)( \(.*\))?$|\]$/.test(document.querySelector("#status").textContent)`, 60*time.Second)
		var status string
		evalJS(t, ctx, `document.querySelector("#status").textContent`, &status)
		key, outcome, _ := strings.Cut(status, ": ")
		if outcome != "verified" {
			t.Fatalf("the page says %q, want the file verified", status)
		}
		if got, err := os.ReadFile(p.stored(key)); err != nil || !bytes.Equal(got, text) {
			t.Errorf("stored bytes of %s differ from the file's (%v)", key, err)
		}
	})
	t.Run("Uppy with the adapter", func(t *testing.T) {
		serve(t, 1, `input.uppy-Dashboard-input`)
		addToDashboard(t, ctx, "notes.txt", text)
		click(t, ctx, `.uppy-StatusBar-actionBtn--upload`)
		poll(t, ctx, `/: (verified|rejected|stored)( \(.*\))?$/.test(document.querySelector("#outcomes").textContent)`, 60*time.Second)
		var shown string
		evalJS(t, ctx, `document.querySelector("#outcomes").textContent`, &shown)
		if shown != "notes.txt: verified" {
			t.Errorf("the page says %q, want notes.txt: verified", shown)
		}
	})
	t.Run("quotas, on the client module's page", func(t *testing.T) {
		q := startForQuota(t, "quota")
		serveWith(t, q, 0, 2, `#file:not([disabled])`)
		status := func(t *testing.T, want *regexp.Regexp) {
			t.Helper()
			js := want.String()
			if err := chromedp.Run(ctx, chromedp.Poll(`new RegExp(`+jsString(js)+`).test(document.querySelector("#status").textContent)`, nil,
				chromedp.WithPollingTimeout(60*time.Second))); err != nil {
				var got string
				_ = chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#status").textContent`, &got))
				t.Fatalf("the page says %q, want it to match %s", got, want)
			}
		}
		status(t, regexp.MustCompile(`^Used: 0 B of 3\.0 MiB stored, 0 of 4 uploads today \(UTC\)\.$`))
		chooseFile(t, ctx, "notes.txt", notes(1<<20))
		status(t, regexp.MustCompile(`^Stored as uploads/\S+-notes\.txt\. Used: 1\.0 MiB of 3\.0 MiB stored, 1 of 4 uploads today \(UTC\)\.$`))
		chooseFile(t, ctx, "big.txt", notes(3<<20))
		status(t, regexp.MustCompile(`^Over quota: your stored-bytes quota has 2\.0 MiB of 3\.0 MiB left; this file needs 3\.0 MiB\.$`))
	})
}
