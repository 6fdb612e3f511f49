package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var timings = flag.Bool("timings", false, "TestUploadTimes: time a 40 MiB upload through Uppy with the adapter and through the client module")

// TestUploadTimes uploads the same 40 MiB file through Uppy with the
// adapter and through the client module alone, from one page against one
// local mode, alternating, and prints the times (go test -run
// TestUploadTimes -timings -v ./cmd/local). It checks the stored bytes, not
// the times.
func TestUploadTimes(t *testing.T) {
	if !*timings {
		t.Skip("prints timings: run with -timings")
	}
	ctx := browser(t)
	p := startForWebClient(t, t.TempDir())
	uppyApp(t, ctx, p)
	path, data := randomFile(t, "timed.bin", 40<<20)
	const rounds = 3
	var viaUppy, viaModule []time.Duration
	for i := range rounds {
		evalJS(t, ctx, `uppy.clear()`, nil)
		if err := chromedp.Run(ctx, chromedp.SetUploadFiles(`input.uppy-Dashboard-input[name="files[]"]:not([webkitdirectory])`, []string{path}, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		poll(t, ctx, `uppy.getFiles().length === 1`, 30*time.Second)
		measure := map[string]string{
			"uppy": `(async () => {
				const t0 = performance.now();
				const res = await uppy.upload();
				return { ms: performance.now() - t0, key: res.successful.length === 1 ? res.successful[0].response.body.key : "" };
			})()`,
			"module": `(async () => {
				const t0 = performance.now();
				const got = await client.upload(uppy.getFiles()[0].data);
				return { ms: performance.now() - t0, key: got.multipart ? got.fileKey : "" };
			})()`,
		}
		order := []string{"module", "uppy"}
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, how := range order {
			var got struct {
				Ms  float64
				Key string
			}
			evalJS(t, ctx, measure[how], &got)
			if b, err := os.ReadFile(filepath.Clean(p.stored(got.Key))); got.Key == "" || err != nil || !bytes.Equal(b, data) {
				t.Fatalf("%s: the upload %q did not store the file in parts (%v)", how, got.Key, err)
			}
			d := time.Duration(got.Ms * float64(time.Millisecond)).Round(time.Millisecond)
			if how == "uppy" {
				viaUppy = append(viaUppy, d)
			} else {
				viaModule = append(viaModule, d)
			}
			t.Logf("round %d: %-6s %v", i+1, how, d)
		}
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	t.Logf("40 MiB in 8 parts of 5 MiB, median of %d: Uppy with the adapter %v (%v), the module alone %v (%v)",
		rounds, median(viaUppy), viaUppy, median(viaModule), viaModule)
}
