package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/presigned-upload/presigned-upload/api"
)

// jsUpload is what the test page's tryUpload reports.
type jsUpload struct {
	Got struct {
		FileKey                 string
		Size                    int64
		Multipart               bool
		ChecksumCRC64NVME       string
		PartsSent, PartsSkipped int
	}
	Steps    []string
	Progress []int64
	Total    int64
	Error    *struct {
		Name, Message, Code string
		Status              int
		Kept                bool
	}
}

// tryUpload uploads the file chosen in #file with a client of local mode's
// API, recording its steps and progress. opts may set apiKey, and upload:
// the upload's options. A store made by memoryStore keeps resume state in
// the page.
const tryUploadJS = `
window.memoryStore = () => {
  const m = new Map(), key = (f) => f.name + ":" + f.size;
  return { m, get: (f) => m.get(key(f)) ?? null, set: (f, s) => { m.set(key(f), s); }, delete: (f) => { m.delete(key(f)); } };
};
window.tryUpload = async (opts = {}) => {
  const c = presigned.createClient({ apiUrl: config.apiUrl, apiKey: opts.apiKey ?? config.apiKey, multipartThreshold: config.multipartThreshold });
  const file = document.querySelector("#file").files[0];
  const steps = [], progress = [];
  try {
    const got = await c.upload(file, { ...opts.upload, onStep: (s) => steps.push(s.step), onProgress: (n) => progress.push(n) });
    return { got, steps, progress, total: file.size };
  } catch (err) {
    return { error: { name: err.name, message: err.message, status: err.status ?? 0, code: typeof err.code === "string" ? err.code : "", kept: !!err.kept }, steps, progress, total: file.size };
  }
};
window.newClient = () => presigned.createClient({ apiUrl: config.apiUrl, apiKey: config.apiKey });
`

func TestWebClient(t *testing.T) {
	ctx := browser(t)
	web := t.TempDir()
	copyTree(t, web, filepath.Join(repoRoot(), "web"))
	copyTree(t, web, filepath.Join(pkgDir, "testdata", "webclient"))
	p := startForWebClient(t, web)
	openReady(t, ctx, p.API+"/client.html")
	evalJS(t, ctx, tryUploadJS, nil)

	succeeded := func(t *testing.T, r jsUpload, steps ...string) {
		t.Helper()
		if r.Error != nil {
			t.Fatalf("upload failed: %+v", *r.Error)
		}
		if !slices.Equal(r.Steps, steps) {
			t.Errorf("steps %q, want %q", r.Steps, steps)
		}
		if n := len(r.Progress); n == 0 || r.Progress[n-1] != r.Total || slices.Max(r.Progress) > r.Total {
			t.Errorf("progress %v, want it to end at %d and never pass it", r.Progress, r.Total)
		}
	}

	t.Run("config.json gives the environment's part size", func(t *testing.T) {
		var cfg struct{ PartSize int64 }
		if err := chromedp.Run(ctx, chromedp.Evaluate(`config`, &cfg)); err != nil {
			t.Fatal(err)
		}
		if cfg.PartSize != 5<<20 {
			t.Errorf("config.json partSize = %d, want the environment's 5242880", cfg.PartSize)
		}
	})
	t.Run("a small file in one PUT signed with its size and CRC64NVME, which S3 holds", func(t *testing.T) {
		data := bytes.Repeat([]byte("some notes\n"), 10000)
		chooseFile(t, ctx, "notes.txt", data)
		r := tryUpload(t, ctx, `{}`)
		succeeded(t, r, "sign", "put")
		if r.Got.Multipart || !regexp.MustCompile(`^uploads/[0-9a-v]{26}-notes\.txt$`).MatchString(r.Got.FileKey) {
			t.Errorf("result %+v, want a single PUT under a key the API made", r.Got)
		}
		p.wantStored(t, r.Got.FileKey, data)
		if got, want := storedCRC64NVME(t, p, r.Got.FileKey), crcOf(data); got != want || r.Got.ChecksumCRC64NVME != want {
			t.Errorf("S3 holds checksum %q and the module reports %q, want the file's %q", got, r.Got.ChecksumCRC64NVME, want)
		}
	})
	t.Run("a large file in parallel parts, checked whole", func(t *testing.T) {
		_, data := randomFile(t, "x", 20<<20)
		chooseFile(t, ctx, "large.bin", data)
		r := tryUpload(t, ctx, `{}`)
		succeeded(t, r, "start", "parts", "complete")
		if !r.Got.Multipart || r.Got.PartsSent != 4 || r.Got.PartsSkipped != 0 {
			t.Errorf("result %+v, want 4 parts sent", r.Got)
		}
		p.wantStored(t, r.Got.FileKey, data)
		if got, want := storedCRC64NVME(t, p, r.Got.FileKey), crcOf(data); got != want || r.Got.ChecksumCRC64NVME != want {
			t.Errorf("S3 holds checksum %q and the module reports %q, want the file's %q", got, r.Got.ChecksumCRC64NVME, want)
		}
	})
	t.Run("a state that cannot go on starts over", func(t *testing.T) {
		_, data := randomFile(t, "x", 9<<20)
		chooseFile(t, ctx, "stale.bin", data)
		// An upload this page does not hold the secret of.
		var started api.MultipartStartResponse
		if code := apiCall(t, p, "POST", "/multipart", api.MultipartStartRequest{FileName: "stale.bin", ContentType: "application/octet-stream",
			Size: int64(len(data)), ChecksumAlgorithm: "CRC64NVME"}, &started); code != 200 {
			t.Fatalf("start = %d", code)
		}
		for _, tc := range []struct{ name, state string }{
			{"a state from before upload secrets", `{uploadId: ` + jsString(started.UploadID) + `, fileKey: ` + jsString(started.FileKey) + `, checksums: true}`},
			{"a wrong secret (403)", `{uploadId: ` + jsString(started.UploadID) + `, fileKey: ` + jsString(started.FileKey) + `, uploadSecret: "wrong", checksums: true}`},
			{"an upload the API no longer knows (404)", `{uploadId: "gone", fileKey: "uploads/0123456789abcdefghijklmnop-stale.bin", uploadSecret: "x", checksums: true}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				evalJS(t, ctx, `window.store = memoryStore(); store.set(document.querySelector("#file").files[0],
					{...`+tc.state+`, size: `+fmt.Sprint(len(data))+`, partSize: 5242880})`, nil)
				r := tryUpload(t, ctx, `{upload: {resume: store}}`)
				succeeded(t, r, "start", "parts", "complete")
				if r.Got.PartsSent != 2 || r.Got.PartsSkipped != 0 || r.Got.FileKey == started.FileKey {
					t.Errorf("result %+v, want a new upload with both parts sent", r.Got)
				}
				p.wantStored(t, r.Got.FileKey, data)
			})
		}
	})
	t.Run("aborting the signal aborts the upload in S3 and forgets its state", func(t *testing.T) {
		_, data := randomFile(t, "x", 30<<20)
		chooseFile(t, ctx, "cancel.bin", data)
		if err := chromedp.Run(ctx, network.Enable(), network.EmulateNetworkConditions(false, 0, -1, 4<<20)); err != nil {
			t.Fatal(err)
		}
		evalJS(t, ctx, `window.store = memoryStore(); window.ctl = new AbortController();
			window.pending = tryUpload({upload: {resume: store, signal: ctl.signal}}); 0`, nil)
		poll(t, ctx, `store.m.size === 1`, 30*time.Second)
		var state struct{ UploadID, FileKey string }
		evalJS(t, ctx, `[...store.m.values()][0]`, &state)
		var r jsUpload
		evalJS(t, ctx, `ctl.abort(), pending`, &r)
		if err := chromedp.Run(ctx, network.EmulateNetworkConditions(false, 0, -1, -1)); err != nil {
			t.Fatal(err)
		}
		if r.Error == nil || r.Error.Name != "AbortError" {
			t.Fatalf("upload = %+v, want an AbortError", r)
		}
		var left int
		evalJS(t, ctx, `store.m.size`, &left)
		if left != 0 {
			t.Error("the store still holds the cancelled upload's state")
		}
		uploadGone(t, p, url.PathEscape(state.UploadID), url.QueryEscape(state.FileKey))
	})
	t.Run("errors carry the API's status and code, and say what happened", func(t *testing.T) {
		for _, tc := range []struct {
			name, file, opts string
			data             []byte
			status           int
			code, message    string
		}{
			{"a type the API refuses", "page.html", `{}`, []byte("<p>hi</p>"), 415, "UnsupportedMediaType", `content type "text/html" is not allowed`},
			{"a wrong API key", "note.txt", `{apiKey: "wrong"}`, []byte("hi"), 403, "INVALID_API_KEY", "The API refused the request: Forbidden (403 INVALID_API_KEY)."},
			{"an empty file", "empty.txt", `{}`, nil, 0, "EmptyFile", "The file is empty."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				chooseFile(t, ctx, tc.file, tc.data)
				r := tryUpload(t, ctx, tc.opts)
				if r.Error == nil || r.Error.Name != "UploadError" || r.Error.Status != tc.status || r.Error.Code != tc.code || !strings.Contains(r.Error.Message, tc.message) {
					t.Errorf("upload = %+v, want UploadError %d %s saying %q", r.Error, tc.status, tc.code, tc.message)
				}
			})
		}
	})
	t.Run("waitForOutcome returns the verifier's decision", func(t *testing.T) {
		for _, tc := range []struct {
			file    string
			data    []byte
			outcome string
		}{
			{"verified.txt", []byte("plain text, as its name says\n"), `{"status":"verified"}`},
			// HTML named .png: the client sends image/png, the verifier sniffs HTML.
			{"page.png", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), `{"status":"rejected","reason":"active-content"}`},
		} {
			chooseFile(t, ctx, tc.file, tc.data)
			r := tryUpload(t, ctx, `{}`)
			if r.Error != nil {
				t.Fatalf("upload of %s failed: %+v", tc.file, *r.Error)
			}
			var got string
			evalJS(t, ctx, `newClient().waitForOutcome(`+jsString(r.Got.FileKey)+`, {interval: 200}).then(JSON.stringify)`, &got)
			if got != tc.outcome {
				t.Errorf("%s: waitForOutcome = %s, want %s", tc.file, got, tc.outcome)
			}
		}
	})
	t.Run("quota is null where the API has no quota route", func(t *testing.T) {
		var got string
		evalJS(t, ctx, `newClient().quota().then(JSON.stringify)`, &got)
		if got != "null" {
			t.Errorf("quota = %s, want null", got)
		}
	})
}

// The client's plan is the API's: Uppy cuts parts with it before the API
// has answered.
func TestWebClientPlansPartsAsTheAPI(t *testing.T) {
	node := needNode(t, "node")
	var cases [][2]int64
	for _, size := range []int64{1, 5<<20 - 1, 5 << 20, 5<<20 + 1, 40 << 20, 1 << 30, 156<<30 + 1, 1 << 40, 5<<40 - 1, 5 << 40,
		48<<40 + 7, api.MaxObjectSize - 1, api.MaxObjectSize} {
		for _, preferred := range []int64{1, 5 << 20, 16 << 20, 100<<20 + 3} {
			cases = append(cases, [2]int64{size, preferred})
		}
	}
	in, _ := json.Marshal(cases)
	index := "file://" + filepath.Join(repoRoot(), "web", "client", "index.js")
	out, err := exec.Command(node, "-e", `import(process.argv[1]).then(({ planParts }) =>
		console.log(JSON.stringify(JSON.parse(process.argv[2]).map(([size, preferred]) => planParts(size, preferred)))))`, index, string(in)).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []api.Plan
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cases) {
		t.Fatalf("node printed %s (%v)", out, err)
	}
	for i, c := range cases {
		if want := api.PlanParts(c[0], c[1]); got[i] != want {
			t.Errorf("planParts(%d, %d) = %+v, want the API's %+v", c[0], c[1], got[i], want)
		}
	}
}

// Each module's .d.ts declares exactly what the module exports.
func TestWebClientTypesNameEveryExport(t *testing.T) {
	node := needNode(t, "node")
	declared := regexp.MustCompile(`(?m)^export declare (?:function|class|const) (\w+)`)
	for _, name := range []string{"index", "uppy"} {
		dir := filepath.Join(repoRoot(), "web", "client")
		out, err := exec.Command(node, "-e", `import(process.argv[1]).then((m) => console.log(Object.keys(m).sort().join(" ")))`,
			"file://"+filepath.Join(dir, name+".js")).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		dts, err := os.ReadFile(filepath.Join(dir, name+".d.ts"))
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, m := range declared.FindAllStringSubmatch(string(dts), -1) {
			types = append(types, m[1])
		}
		slices.Sort(types)
		if got, want := strings.Join(types, " "), strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s.d.ts declares %q; %s.js exports %q", name, got, name, want)
		}
	}
}

// The module and the adapter have no runtime dependencies: bundled, they
// are their own files only. Their sizes, minified and gzipped, are logged
// (go test -run WebClientSize -v ./cmd/local).
func TestWebClientSize(t *testing.T) {
	dir := t.TempDir()
	client := filepath.Join(repoRoot(), "web", "client")
	for _, b := range []struct {
		name, entry string
		external    []string
	}{
		{"the module (index.js)", "index.js", nil},
		{"the Uppy adapter (uppy.js)", "uppy.js", []string{"--external:./index.js"}},
	} {
		out := filepath.Join(dir, "out.js")
		meta := filepath.Join(dir, "meta.json")
		esbuild(t, client, append([]string{b.entry, "--bundle", "--minify", "--format=esm", "--log-level=warning", "--outfile=" + out, "--metafile=" + meta}, b.external...)...)
		var m struct{ Inputs map[string]any }
		mb, _ := os.ReadFile(meta)
		if err := json.Unmarshal(mb, &m); err != nil {
			t.Fatal(err)
		}
		for in := range m.Inputs {
			if filepath.Dir(in) != "." {
				t.Errorf("%s bundles %s: the client must have no dependencies", b.name, in)
			}
		}
		min, _ := os.ReadFile(out)
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = w.Write(min)
		_ = w.Close()
		t.Logf("%-34s %6d bytes minified, %5d bytes minified + gzip -9", b.name, len(min), gz.Len())
	}
}
