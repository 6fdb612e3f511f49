package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
)

// webClientEnvironments are the cdk.json settings the client module and
// the Uppy adapter are tested under: a key, 5 MiB parts, sizes signed and
// nothing overwritten.
const webClientEnvironments = `{"context": {"environments": {
  "webclient": {"allowedOrigins": ["*"], "partSize": 5242880, "apiKeyRequired": true, "requireSize": true, "preventOverwrite": true}
}}}`

// repoRoot is the repository's root: package.json, node_modules, web/.
func repoRoot() string { return filepath.Join(pkgDir, "..", "..") }

// startForWebClient runs local mode for the client module's tests, parts
// from 8 MiB, serving the upload page with the fixtures next to it.
func startForWebClient(t *testing.T, web string) *localProc {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(p, []byte(webClientEnvironments), 0o644); err != nil {
		t.Fatal(err)
	}
	return startLocal(t, "webclient", p, "-web", web, "-multipart-threshold", "8388608")
}

// needNode finds a tool that npm ci installs (node_modules/.bin/NAME) or
// Node.js itself ("node"); without it the test is skipped, except in CI.
func needNode(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Node.js tools")
	}
	path := filepath.Join(repoRoot(), "node_modules", ".bin", name)
	if name == "node" {
		path, _ = exec.LookPath("node")
	}
	if _, err := os.Stat(path); path == "" || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: .ci/run must run npm ci", name)
		}
		t.Skipf("%s is not installed: run npm ci", name)
	}
	return path
}

// esbuild runs the pinned esbuild in dir with args; bare imports resolve in
// the repository's node_modules, as they would in an app that installed
// the client, Uppy and esbuild.
func esbuild(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(needNode(t, "esbuild"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(repoRoot(), "node_modules"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// copyTree copies the files under src into dst, which may exist.
func copyTree(t *testing.T, dst, src string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// appServer serves dir as a web app on its own origin, as an app that
// uses the API would be, and /config.json as local mode serves it.
func appServer(t *testing.T, dir string, p *localProc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(p.API + "/config.json")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// openReady loads url and waits until its script says it is ready.
func openReady(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Navigate(url), chromedp.WaitVisible(`body[data-ready="true"]`, chromedp.ByQuery)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// evalJS evaluates js, an expression whose value may be a promise, and
// decodes what it settles to into out (which may be nil).
func evalJS(t *testing.T, ctx context.Context, js string, out any) {
	t.Helper()
	err := chromedp.Run(ctx, chromedp.Evaluate(js, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	if err != nil {
		t.Fatalf("%v\nin: %s", err, js)
	}
}

// poll waits until js is true in the page.
func poll(t *testing.T, ctx context.Context, js string, timeout time.Duration) {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Poll(js, nil, chromedp.WithPollingTimeout(timeout))); err != nil {
		t.Fatalf("waiting for %s: %v", js, err)
	}
}

// bucketOf is an S3 client of local mode's own S3 server, with its
// printed credentials.
func bucketOf(p *localProc) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(p.S3), UsePathStyle: true, Region: s3gw.Region,
		Credentials: credentials.NewStaticCredentialsProvider(p.S3Key, p.S3Secret, "")})
}

// uploadGone waits until the API no longer knows a multipart upload
// (list parts answers 404).
func uploadGone(t *testing.T, p *localProc, uploadID, fileKey string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, p.API+"/multipart/"+uploadID+"/parts?fileKey="+fileKey, nil)
		req.Header.Set("X-Api-Key", p.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload %s still exists (list parts = %d)", uploadID, resp.StatusCode)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apiCall sends a JSON request to local mode's API with its key (and the
// secret of the upload it is about, as a client would) and decodes the
// answer into out.
func apiCall(t *testing.T, p *localProc, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, p.API+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Api-Key", p.Key)
	setSecret(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rememberSecret(method, path, resp.StatusCode, b)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

// chooseFile writes data to a file called name and picks it in the page's
// file input (#file).
func chooseFile(t *testing.T, ctx context.Context, name string, data []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx, chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
}

// tryUpload runs the page's tryUpload with opts (a JS object literal) and
// returns what it recorded.
func tryUpload(t *testing.T, ctx context.Context, opts string) jsUpload {
	t.Helper()
	var r jsUpload
	evalJS(t, ctx, `tryUpload(`+opts+`)`, &r)
	return r
}
