package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"

	"github.com/presigned-upload/presigned-upload/api"
)

// crcOf is the file's CRC64NVME as the API and S3 spell it, computed by
// package api: what the module must agree with.
func crcOf(data []byte) string { return api.EncodeCRC64NVME(api.CRC64NVME(data)) }

// storedCRC64NVME is the CRC64NVME local mode's S3 server holds for key.
func storedCRC64NVME(t *testing.T, p *localProc, key string) string {
	t.Helper()
	head, err := bucketOf(p).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("presigned-upload-" + p.Env),
		Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return aws.ToString(head.ChecksumCRC64NVME)
}

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

// recordAPIJS records the page's calls to the API in apiCalls: method,
// path, the upload secret sent, the JSON body, the status and, for a
// multipart start, the answer. beforeComplete, when set, may hold or change
// a completion's body; while loseCompletions is above 0, a completion's
// answer, whatever it was, reaches the page as API Gateway's 504 after its
// timeout.
const recordAPIJS = `
window.apiCalls = [];
window.beforeComplete = null;
window.loseCompletions = 0;
const realFetch = window.fetch;
window.fetch = async (url, init = {}) => {
  if (typeof url !== "string" || !url.startsWith(config.apiUrl)) return realFetch(url, init);
  const call = { method: init.method || "GET", path: url.slice(config.apiUrl.length), secret: init.headers?.["X-Upload-Secret"] || "",
    body: init.body ? JSON.parse(init.body) : null };
  apiCalls.push(call);
  const completion = call.method === "POST" && call.path.endsWith("/complete");
  if (beforeComplete && completion) init = { ...init, body: JSON.stringify(await beforeComplete(call.body)) };
  const res = await realFetch(url, init);
  call.status = res.status;
  if (call.method === "POST" && call.path === "/multipart" && res.ok) call.answer = await res.clone().json();
  if (completion && loseCompletions > 0) {
    loseCompletions--;
    return new Response(JSON.stringify({ message: "Endpoint request timed out" }), { status: 504, headers: { "Content-Type": "application/json" } });
  }
  return res;
};
`

// apiCall is one call the page made, as recordAPIJS records it.
type apiCallRecord struct {
	Method, Path, Secret string
	Body                 json.RawMessage
	Status               int
	Answer               api.MultipartStartResponse
}

// calls returns the page's API calls recorded since the last take.
func takeCalls(t *testing.T, ctx context.Context) []apiCallRecord {
	t.Helper()
	var calls []apiCallRecord
	evalJS(t, ctx, `apiCalls.splice(0)`, &calls)
	return calls
}

// signed returns the part numbers and checksums the signing calls asked
// for, in order.
func signed(t *testing.T, calls []apiCallRecord) (numbers []int, sums []string) {
	t.Helper()
	for _, c := range calls {
		if c.Method == "POST" && strings.HasSuffix(c.Path, "/parts") {
			var in api.SignPartsRequest
			if err := json.Unmarshal(c.Body, &in); err != nil {
				t.Fatal(err)
			}
			if len(in.ChecksumsCRC64NVME) != len(in.PartNumbers) {
				t.Errorf("a signing call asks for parts %v with checksums %q: want one each", in.PartNumbers, in.ChecksumsCRC64NVME)
			}
			numbers, sums = append(numbers, in.PartNumbers...), append(sums, in.ChecksumsCRC64NVME...)
		}
	}
	return numbers, sums
}

// completed returns the body of the completion among calls.
func completed(t *testing.T, calls []apiCallRecord) api.CompleteRequest {
	t.Helper()
	var in api.CompleteRequest
	for _, c := range calls {
		if c.Method == "POST" && strings.HasSuffix(c.Path, "/complete") {
			if err := json.Unmarshal(c.Body, &in); err != nil {
				t.Fatal(err)
			}
		}
	}
	return in
}

// partOf returns part n of data as plan cuts it.
func partOf(data []byte, plan api.Plan, n int) []byte {
	from := int64(n-1) * plan.PartSize
	return data[from : from+plan.PartLength(n)]
}

// The client module against local mode's S3 server, which checks every
// checksum: what it signs, what it sends at completion, how it resumes, and
// what it does when completion fails for good.
func TestWebClientIntegrity(t *testing.T) {
	ctx := browser(t)
	web := t.TempDir()
	copyTree(t, web, filepath.Join(repoRoot(), "web"))
	copyTree(t, web, filepath.Join(pkgDir, "testdata", "webclient"))
	p := startForWebClient(t, web)
	openReady(t, ctx, p.API+"/client.html")
	evalJS(t, ctx, tryUploadJS+recordAPIJS, nil)

	storedAs := func(t *testing.T, key string, data []byte) {
		t.Helper()
		p.wantStored(t, key, data)
		if got, want := storedCRC64NVME(t, p, key), crcOf(data); got != want {
			t.Errorf("S3 holds checksum %q for %s, want the file's %q", got, key, want)
		}
	}
	storeEmpty := func(t *testing.T) {
		t.Helper()
		var left int
		evalJS(t, ctx, `store.m.size`, &left)
		if left != 0 {
			t.Errorf("the store still holds %d states", left)
		}
	}
	const partSize = 5 << 20

	t.Run("multipart: each part signed with its checksum, completion with the whole file's, every call with the secret", func(t *testing.T) {
		_, data := randomFile(t, "x", 17<<20+3) // 4 parts, the last one 2 MiB and 3 bytes
		plan := api.PlanParts(int64(len(data)), partSize)
		chooseFile(t, ctx, "whole.bin", data)
		takeCalls(t, ctx)
		r := tryUpload(t, ctx, `{upload: {resume: window.store = memoryStore()}}`)
		if r.Error != nil {
			t.Fatalf("upload failed: %+v", *r.Error)
		}
		storedAs(t, r.Got.FileKey, data)
		calls := takeCalls(t, ctx)
		start := calls[0]
		var in api.MultipartStartRequest
		_ = json.Unmarshal(start.Body, &in)
		if start.Path != "/multipart" || in.ChecksumAlgorithm != "CRC64NVME" || start.Answer.UploadSecret == "" {
			t.Fatalf("first call %s %s %s answered %+v, want a start with checksumAlgorithm CRC64NVME", start.Method, start.Path, start.Body, start.Answer)
		}
		for _, c := range calls[1:] {
			if c.Secret != start.Answer.UploadSecret {
				t.Errorf("%s %s sent secret %q, want the upload's", c.Method, c.Path, c.Secret)
			}
		}
		numbers, sums := signed(t, calls)
		slices.Sort(numbers)
		if !slices.Equal(numbers, []int{1, 2, 3, 4}) {
			t.Errorf("signed parts %v, want each of 1 to 4 once", numbers)
		}
		numbers, _ = signed(t, calls)
		for i, n := range numbers {
			if want := crcOf(partOf(data, plan, n)); sums[i] != want {
				t.Errorf("part %d signed with checksum %s, want %s", n, sums[i], want)
			}
		}
		if got := completed(t, calls).ChecksumCRC64NVME; got != crcOf(data) || r.Got.ChecksumCRC64NVME != got {
			t.Errorf("completion sent checksum %q and the result has %q, want the file's %q", got, r.Got.ChecksumCRC64NVME, crcOf(data))
		}
		storeEmpty(t)
	})
	t.Run("a resume sends the missing parts and a part S3 holds with other bytes, and completes with the whole file's checksum", func(t *testing.T) {
		_, data := randomFile(t, "x", 12<<20+5) // 3 parts
		plan := api.PlanParts(int64(len(data)), partSize)
		chooseFile(t, ctx, "resume.bin", data)
		var started api.MultipartStartResponse
		if code := apiCall(t, p, "POST", "/multipart", api.MultipartStartRequest{FileName: "resume.bin", ContentType: "application/octet-stream",
			Size: int64(len(data)), ChecksumAlgorithm: "CRC64NVME"}, &started); code != 200 {
			t.Fatalf("start = %d", code)
		}
		// S3 holds part 1 as the file has it, and a part 2 of the right
		// length but other bytes (from another file, or one since changed).
		other := randomBytes(9, partSize)
		held := [][]byte{partOf(data, plan, 1), other}
		var got api.SignPartsResponse
		if code := apiCall(t, p, "POST", "/multipart/"+url.PathEscape(started.UploadID)+"/parts", api.SignPartsRequest{FileKey: started.FileKey,
			Size: int64(len(data)), PartNumbers: []int{1, 2}, ChecksumsCRC64NVME: []string{crcOf(held[0]), crcOf(held[1])}}, &got); code != 200 {
			t.Fatalf("sign = %d", code)
		}
		for _, part := range got.Parts {
			if status, body := put(t, part.URL, part.Headers, held[part.PartNumber-1]); status != 200 {
				t.Fatalf("part %d = %d %s", part.PartNumber, status, body)
			}
		}
		// The state knows part 1's checksum; part 2's is read again.
		state := jsonOf(map[string]any{"uploadId": started.UploadID, "fileKey": started.FileKey, "uploadSecret": started.UploadSecret,
			"size": len(data), "partSize": started.PartSize, "checksums": true, "partChecksums": map[string]string{"1": crcOf(held[0])}})
		evalJS(t, ctx, `window.store = memoryStore(); store.set(document.querySelector("#file").files[0], `+state+`)`, nil)
		takeCalls(t, ctx)
		r := tryUpload(t, ctx, `{upload: {resume: store}}`)
		if r.Error != nil {
			t.Fatalf("upload failed: %+v", *r.Error)
		}
		if !slices.Equal(r.Steps, []string{"resume", "parts", "complete"}) || r.Got.FileKey != started.FileKey || r.Got.PartsSent != 2 || r.Got.PartsSkipped != 1 {
			t.Errorf("steps %q, result %+v, want %s resumed with parts 2 and 3 sent, 1 skipped", r.Steps, r.Got, started.FileKey)
		}
		calls := takeCalls(t, ctx)
		if numbers, _ := signed(t, calls); !slices.Equal(slices.Sorted(slices.Values(numbers)), []int{2, 3}) {
			t.Errorf("signed parts %v, want 2 and 3", numbers)
		}
		if got := completed(t, calls).ChecksumCRC64NVME; got != crcOf(data) {
			t.Errorf("completion sent checksum %q, want the file's %q", got, crcOf(data))
		}
		storedAs(t, started.FileKey, data)
		storeEmpty(t)
	})
	t.Run("checksums off: no checksum is asked for or signed", func(t *testing.T) {
		for _, size := range []int{100 << 10, 9 << 20} {
			_, data := randomFile(t, "x", size)
			chooseFile(t, ctx, "unchecked.bin", data)
			takeCalls(t, ctx)
			r := tryUpload(t, ctx, `{upload: {checksums: false}}`)
			if r.Error != nil {
				t.Fatalf("upload of %d bytes failed: %+v", size, *r.Error)
			}
			for _, c := range takeCalls(t, ctx) {
				if bytes.Contains(bytes.ToLower(c.Body), []byte("checksum")) {
					t.Errorf("%s %s sent %s, want no checksum", c.Method, c.Path, c.Body)
				}
			}
			if got, err := os.ReadFile(p.stored(r.Got.FileKey)); err != nil || !bytes.Equal(got, data) {
				t.Errorf("stored bytes of %s differ from the file's (%v)", r.Got.FileKey, err)
			}
		}
	})
	t.Run("a completion whose answer was lost (API Gateway's 504) is sent again, and answers as the API did", func(t *testing.T) {
		_, data := randomFile(t, "x", 9<<20)
		chooseFile(t, ctx, "lost.bin", data)
		evalJS(t, ctx, `window.loseCompletions = 1`, nil)
		takeCalls(t, ctx)
		r := tryUpload(t, ctx, `{upload: {resume: window.store = memoryStore()}}`)
		if r.Error != nil {
			t.Fatalf("upload failed: %+v", *r.Error)
		}
		storedAs(t, r.Got.FileKey, data)
		if r.Got.ChecksumCRC64NVME != crcOf(data) || r.Got.Size != int64(len(data)) {
			t.Errorf("result %+v, want the file's size and checksum %s", r.Got, crcOf(data))
		}
		var completions []int
		for _, c := range takeCalls(t, ctx) {
			if c.Method == "POST" && strings.HasSuffix(c.Path, "/complete") {
				completions = append(completions, c.Status)
			}
		}
		// The API completed the upload the first time, and answered the
		// second as it had the first.
		if !slices.Equal(completions, []int{200, 200}) {
			t.Errorf("completions answered %v, want [200 200]", completions)
		}
		storeEmpty(t)
	})
	// startHeld starts an upload of a new file whose completion waits for
	// the test, and returns the upload's state once it does.
	startHeld := func(t *testing.T, name string, change string) (state struct{ UploadID, FileKey string }) {
		t.Helper()
		_, data := randomFile(t, "x", 9<<20)
		chooseFile(t, ctx, name, data)
		evalJS(t, ctx, `window.store = memoryStore(); window.held = null;
			window.beforeComplete = (body) => new Promise((resolve) => { window.held = () => resolve(`+change+`); });
			window.pending = tryUpload({upload: {resume: store}}); 0`, nil)
		poll(t, ctx, `!!window.held`, 60*time.Second)
		evalJS(t, ctx, `[...store.m.values()][0]`, &state)
		return state
	}
	finish := func(t *testing.T) jsUpload {
		t.Helper()
		var r jsUpload
		evalJS(t, ctx, `held(), window.beforeComplete = null, pending`, &r)
		return r
	}
	t.Run("a 412 at completion: the upload is aborted and forgotten", func(t *testing.T) {
		st := startHeld(t, "taken.bin", `body`)
		// Meanwhile an object gets the upload's key, and preventOverwrite is on.
		first := []byte("stored first")
		if _, err := bucketOf(p).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("presigned-upload-webclient"),
			Key: aws.String(st.FileKey), Body: bytes.NewReader(first)}); err != nil {
			t.Fatal(err)
		}
		r := finish(t)
		if r.Error == nil || r.Error.Status != http.StatusPreconditionFailed || r.Error.Kept {
			t.Fatalf("upload = %+v, want the API's 412, not kept", r.Error)
		}
		if got, _ := os.ReadFile(p.stored(st.FileKey)); !bytes.Equal(got, first) {
			t.Errorf("the object at %s was replaced", st.FileKey)
		}
		storeEmpty(t)
		uploadGone(t, p, url.PathEscape(st.UploadID), url.QueryEscape(st.FileKey))
	})
	t.Run("BadDigest at completion: the upload is aborted and forgotten, and the error says the file changed", func(t *testing.T) {
		// As if the file had changed since its parts were read: the whole
		// file's checksum is not the one the parts make.
		st := startHeld(t, "changed.bin", `{...body, checksumCRC64NVME: "AAAAAAAAAAA="}`)
		r := finish(t)
		if r.Error == nil || r.Error.Code != "BadDigest" || !strings.Contains(r.Error.Message, "The file changed while it was uploading") || r.Error.Kept {
			t.Fatalf("upload = %+v, want BadDigest saying the file changed, not kept", r.Error)
		}
		if _, err := os.Stat(p.stored(st.FileKey)); !os.IsNotExist(err) {
			t.Errorf("an object was stored at %s (%v)", st.FileKey, err)
		}
		storeEmpty(t)
		uploadGone(t, p, url.PathEscape(st.UploadID), url.QueryEscape(st.FileKey))
	})
}

// webClientExpiryEnvironments signs URLs valid for 4 seconds, so that a
// test can have one expire.
const webClientExpiryEnvironments = `{"context": {"environments": {
  "webclientexpiry": {"allowedOrigins": ["*"], "partSize": 5242880, "urlExpirySeconds": 4}
}}}`

// A part URL S3 refuses as expired, though the module thought it fresh (a
// signer's clock behind S3's), is signed again once and sent. S3 refuses it
// with a 403 or, as local mode's S3 server does before it has read the
// body, by cutting the connection: the browser then sees a network error.
func TestWebClientResignsExpiredParts(t *testing.T) {
	ctx := browser(t)
	web := t.TempDir()
	copyTree(t, web, filepath.Join(repoRoot(), "web"))
	copyTree(t, web, filepath.Join(pkgDir, "testdata", "webclient"))
	cdkJSON := filepath.Join(t.TempDir(), "cdk.json")
	if err := os.WriteFile(cdkJSON, []byte(webClientExpiryEnvironments), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startLocal(t, "webclientexpiry", cdkJSON, "-web", web, "-multipart-threshold", "8388608")
	openReady(t, ctx, p.API+"/client.html")
	_, data := randomFile(t, "x", 5<<20+10) // 2 parts, signed together
	path := filepath.Join(t.TempDir(), "late.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx, chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Got struct {
			FileKey   string
			PartsSent int
		}
		Error string
		Calls [][]int
	}
	evalJS(t, ctx, `(async () => {
		const c = presigned.createClient({ apiUrl: config.apiUrl, multipartThreshold: 1 });
		const sign = c.signParts.bind(c), calls = [];
		c.signParts = async (...args) => {
			const signed = await sign(...args);
			calls.push(args[2]);
			if (calls.length === 1) {
				// Hold the first URLs until S3 refuses them, and tell the
				// module they are good for an hour.
				const expired = Math.max(...[...signed.values()].map((p) => p.expiresAt)) + 1500;
				while (Date.now() < expired) await new Promise((resolve) => setTimeout(resolve, 100));
				for (const p of signed.values()) p.expiresAt = Date.now() + 3600 * 1000;
			}
			return signed;
		};
		try {
			return { got: await c.upload(document.querySelector("#file").files[0]), calls };
		} catch (err) {
			return { error: err.message, calls };
		}
	})()`, &got)
	if got.Error != "" || got.Got.PartsSent != 2 {
		t.Fatalf("upload = %+v, want both parts sent", got)
	}
	resigned := slices.Concat(got.Calls[1:]...)
	slices.Sort(resigned)
	if len(got.Calls) != 3 || !slices.Equal(got.Calls[0], []int{1, 2}) || !slices.Equal(resigned, []int{1, 2}) {
		t.Errorf("signing calls %v, want parts 1 and 2, then each again once, alone", got.Calls)
	}
	if b, err := os.ReadFile(p.stored(got.Got.FileKey)); err != nil || !bytes.Equal(b, data) {
		t.Errorf("stored bytes of %s differ from the file's (%v)", got.Got.FileKey, err)
	}
}

// The module spells what package api defines once: the header of the
// upload secret and the shape of a checksum.
func TestWebClientSpellsTheContract(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(repoRoot(), "web", "client", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	for what, want := range map[string]string{
		"the upload secret's header": `headers["` + api.UploadSecretHeader + `"] = secret`,
		"a checksum's shape":         `if (!/` + api.Formats["crc64nvme"] + `/.test(s)) return null;`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("web/client/index.js lacks %s as package api has it: %s", what, want)
		}
	}
}
