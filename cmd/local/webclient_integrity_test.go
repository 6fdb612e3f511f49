package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/presigned-upload/presigned-upload/api"
)

// crcOf is the file's CRC64NVME as the API and S3 spell it, computed by
// package api: what the module must agree with.
func crcOf(data []byte) string { return api.EncodeCRC64NVME(api.CRC64NVME(data)) }

// The module's CRC64NVME, in Chromium, against package api's: the check
// value, buffers of many lengths from a fixed seed at every alignment, fed
// whole or in chunks, Blobs, and the combination of parts into a whole.
func TestWebClientCRC64NVME(t *testing.T) {
	ctx := browser(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join(dir, "client"), filepath.Join(repoRoot(), "web", "client"))
	copyTree(t, dir, filepath.Join(pkgDir, "testdata", "crc"))
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	openReady(t, ctx, srv.URL+"/index.html")

	t.Run("the check value", func(t *testing.T) {
		var got struct{ Hex, Base64 string }
		evalJS(t, ctx, `(() => { const c = presigned.crc64nvme(new TextEncoder().encode("123456789"));
			return {Hex: hex(c), Base64: presigned.encodeCrc64nvme(c)}; })()`, &got)
		want := api.CRC64NVME([]byte("123456789"))
		if got.Hex != "ae8b14860a799888" || got.Hex != fmt.Sprintf("%016x", want) || got.Base64 != "rosUhgp5mIg=" || got.Base64 != api.EncodeCRC64NVME(want) {
			t.Errorf("crc64nvme(\"123456789\") = %s (%s), want ae8b14860a799888 (rosUhgp5mIg=), as package api has %016x", got.Hex, got.Base64, want)
		}
	})
	t.Run("random buffers of many lengths, at every alignment, whole and in chunks", func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 4095, 4096, 4097, 1<<20 + 3} {
			// n+3 bytes: the page checksums n of them from offsets 0 to 3,
			// as views of one buffer, so that both of its paths (bytes up to
			// a 4-byte boundary, then words) meet every alignment.
			data := randomBytes(uint64(n)+1, n+3)
			var want []string
			for off := range 4 {
				want = append(want, crcOf(data[off:off+n]))
			}
			var got map[string][]string
			evalJS(t, ctx, `(() => {
				const b = bytesOf(`+jsString(base64.StdEncoding.EncodeToString(data))+`), n = `+fmt.Sprint(n)+`, enc = presigned.encodeCrc64nvme;
				const chunked = (v, size) => { let c = 0n; for (let i = 0; i < v.length; i += size) c = presigned.crc64nvme(v.subarray(i, i + size), c); return enc(c); };
				const out = {whole: [], buffer: [], dataView: [], chunks1: [], chunks5: [], chunks4099: []};
				for (let off = 0; off < 4; off++) {
					const v = b.subarray(off, off + n);
					out.whole.push(enc(presigned.crc64nvme(v)));
					out.buffer.push(enc(presigned.crc64nvme(v.slice().buffer)));
					out.dataView.push(enc(presigned.crc64nvme(new DataView(b.buffer, off, n))));
					out.chunks1.push(chunked(v, 1));
					out.chunks5.push(chunked(v, 5));
					out.chunks4099.push(chunked(v, 4099));
				}
				return out;
			})()`, &got)
			for how, sums := range got {
				if !slices.Equal(sums, want) {
					t.Errorf("%d bytes, %s: the module has %q at offsets 0 to 3, package api %q", n, how, sums, want)
				}
			}
		}
	})
	big := randomBytes(7, 1<<20+3)
	evalJS(t, ctx, `window.big = bytesOf(`+jsString(base64.StdEncoding.EncodeToString(big))+`), 0`, nil)
	t.Run("a Blob larger than one read", func(t *testing.T) {
		var got string
		evalJS(t, ctx, `presigned.crc64nvmeBlob(new Blob(Array(9).fill(big))).then(presigned.encodeCrc64nvme)`, &got)
		if want := crcOf(bytes.Repeat(big, 9)); got != want {
			t.Errorf("crc64nvmeBlob of 9 MiB = %s, want %s", got, want)
		}
	})
	t.Run("parts combine into the whole file's checksum", func(t *testing.T) {
		want := crcOf(big)
		for _, cuts := range [][]int{{0}, {1}, {8}, {4096}, {len(big) / 2}, {len(big) - 1}, {len(big)}, {1, 2, 3}, {333333, 666666, 999999}} {
			var got string
			evalJS(t, ctx, `(() => {
				const cuts = [0, ...`+jsonOf(cuts)+`, big.length];
				let whole = presigned.crc64nvme(big.subarray(0, cuts[1]));
				for (let i = 1; i + 1 < cuts.length; i++) {
					const part = big.subarray(cuts[i], cuts[i + 1]);
					whole = presigned.combineCrc64nvme(whole, presigned.crc64nvme(part), part.length);
				}
				return presigned.encodeCrc64nvme(whole);
			})()`, &got)
			if got != want {
				t.Errorf("parts cut at %v combine into %s, package api has the whole file's %s", cuts, got, want)
			}
		}
	})
	t.Run("combining agrees with package api for lengths up to the largest object", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 3))
		for _, n := range []int64{0, 1, 5 << 20, 5 << 30, api.MaxObjectSize - 1, api.MaxObjectSize, 1<<52 + 12345} {
			a, b := r.Uint64(), r.Uint64()
			var got string
			evalJS(t, ctx, fmt.Sprintf(`hex(presigned.combineCrc64nvme(0x%016xn, 0x%016xn, %d))`, a, b, n), &got)
			if want := fmt.Sprintf("%016x", api.CombineCRC64NVME(a, b, n)); got != want {
				t.Errorf("combining %016x and %016x over %d bytes = %s, want %s", a, b, n, got, want)
			}
		}
	})
	t.Run("decoding takes only what encoding spells", func(t *testing.T) {
		var got []any
		evalJS(t, ctx, `["rosUhgp5mIg=", "rosUhgp5mIg", "rosUhgp5mIg==", "not base64!!", ""].map((s) => {
			const c = presigned.decodeCrc64nvme(s); return c === null ? null : hex(c); })`, &got)
		if want := []any{"ae8b14860a799888", nil, nil, nil, nil}; !slices.Equal(got, want) {
			t.Errorf("decodeCrc64nvme = %v, want %v", got, want)
		}
	})
	// The module checksums every byte it uploads, on the page's thread:
	// its speed is logged (go test -run TestWebClientCRC64NVME -v), not
	// checked. From a File, the page reads the bytes first.
	t.Run("throughput", func(t *testing.T) {
		path, _ := randomFile(t, "timed.bin", 64<<20)
		if err := chromedp.Run(ctx, chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		var got struct{ Bytes, Memory, File float64 }
		evalJS(t, ctx, `(async () => {
			const file = document.querySelector("#file").files[0], b = new Uint8Array(await file.arrayBuffer());
			const median = async (f) => {
				const ms = [];
				for (let i = 0; i < 5; i++) { const t0 = performance.now(); await f(); ms.push(performance.now() - t0); }
				return ms.sort((x, y) => x - y)[2];
			};
			return {Bytes: b.length, Memory: await median(() => presigned.crc64nvme(b)), File: await median(() => presigned.crc64nvmeBlob(file))};
		})()`, &got)
		mbps := func(ms float64) float64 { return got.Bytes / 1e6 / (ms / 1000) }
		t.Logf("CRC64NVME in Chromium, median of 5 over 64 MiB: %.0f MB/s from memory (crc64nvme), %.0f MB/s from a File, reading included (crc64nvmeBlob)",
			mbps(got.Memory), mbps(got.File))
	})
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
