package uploader

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// state is what resuming a multipart upload needs; it is kept in StateDir
// until the upload completes or is aborted.
type state struct {
	UploadID string `json:"uploadId"`
	FileKey  string `json:"fileKey"`
	Size     int64  `json:"size"`
	PartSize int64  `json:"partSize"`
}

// plan is the server's plan of this upload: its part size already keeps the
// count within S3's limit, so planning again with it reproduces it.
func (s *state) plan() api.Plan { return api.PlanParts(s.Size, s.PartSize) }

func (u *upload) statePath() string {
	if u.c.StateDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(u.resumeKey))
	return filepath.Join(u.c.StateDir, hex.EncodeToString(sum[:16])+".json")
}

func (u *upload) loadState() *state {
	b, err := os.ReadFile(u.statePath())
	if err != nil {
		return nil
	}
	var s state
	if json.Unmarshal(b, &s) != nil || s.Size != u.size || s.UploadID == "" {
		return nil
	}
	return &s
}

func (u *upload) saveState(s *state) error {
	p := u.statePath()
	if p == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(s)
	return os.WriteFile(p, b, 0o600)
}

func (u *upload) dropState() {
	if p := u.statePath(); p != "" {
		_ = os.Remove(p)
	}
}

// signedPart is a part ready to send.
type signedPart struct {
	number  int
	url     string
	headers map[string]string
	sum     string
}

func (u *upload) multipart(ctx context.Context) (res *Result, err error) {
	st := u.loadState()
	done := map[int]string{} // part number → ETag already in S3
	skipped := 0
	if st != nil {
		var listed api.ListPartsResponse
		err := u.api(ctx, api.ListParts, []string{st.UploadID}, api.UploadRef{FileKey: st.FileKey}, &listed)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			u.dropState() // aborted or expired meanwhile: start over
			st = nil
		case err != nil:
			return nil, err
		default:
			plan := st.plan()
			for _, p := range listed.Parts {
				if p.PartNumber >= 1 && p.PartNumber <= plan.PartCount && p.Size == plan.PartLength(p.PartNumber) {
					done[p.PartNumber] = p.ETag
					u.report(p.Size)
				}
			}
			skipped = len(done)
		}
	}
	if st == nil {
		var started api.MultipartStartResponse
		if err := u.api(ctx, api.StartMultipart, nil, api.MultipartStartRequest{
			FileName: u.name, ContentType: u.contentType, Size: u.size, ChecksumAlgorithm: "SHA256",
		}, &started); err != nil {
			return nil, err
		}
		st = &state{UploadID: started.UploadID, FileKey: started.FileKey, Size: u.size, PartSize: started.PartSize}
		if err := u.saveState(st); err != nil {
			return nil, fmt.Errorf("save resume state: %w", err)
		}
	}
	plan := st.plan()

	// Once every part is in S3, a failed completion keeps the upload:
	// aborting would throw away what was sent, and running the upload again
	// finds every part listed and only completes it.
	completing := false
	defer func() {
		if err == nil {
			return
		}
		if completing {
			var ae *APIError
			switch {
			case errors.As(err, &ae) && ae.Status == http.StatusPreconditionFailed:
				// preventOverwrite: the key has an object; no retry can help.
				u.dropState()
			case errors.As(err, &ae) && (ae.Status == http.StatusRequestEntityTooLarge || ae.Code == api.CodeUploadAborted):
				u.dropState() // the API aborted the upload
			default:
				err = fmt.Errorf("%w (all %d parts are in S3 and the upload %s is kept: run the same upload again to complete it)", err, plan.PartCount, st.FileKey)
			}
			return
		}
		if u.c.KeepPartial {
			err = fmt.Errorf("%w (kept upload %s for a resume)", err, st.FileKey)
			return
		}
		// Abort with a fresh context: ctx may be what failed.
		abortCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if aerr := u.api(abortCtx, api.AbortMultipart, []string{st.UploadID}, api.UploadRef{FileKey: st.FileKey}, nil); aerr == nil {
			u.dropState()
		}
	}()

	var pending []int
	for n := 1; n <= plan.PartCount; n++ {
		if _, ok := done[n]; !ok {
			pending = append(pending, n)
		}
	}
	etags, err := u.sendParts(ctx, st, plan, pending)
	if err != nil {
		return nil, err
	}
	for n, e := range etags {
		done[n] = e
	}
	parts := make([]api.CompletedPart, 0, len(done))
	for n, e := range done {
		parts = append(parts, api.CompletedPart{PartNumber: n, ETag: e})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	completing = true
	var completed api.CompleteResponse
	if err := u.api(ctx, api.CompleteMultipart, []string{st.UploadID}, api.CompleteRequest{FileKey: st.FileKey, Parts: parts}, &completed); err != nil {
		return nil, err
	}
	u.dropState()
	return &Result{FileKey: completed.FileKey, ETag: completed.ETag, Size: completed.Size, Multipart: true,
		PartsSent: len(pending), PartsSkipped: skipped, APICalls: int(u.calls.Load())}, nil
}

// batchBytes is how much data one signing call covers: with the default
// 16 MiB parts, 16 parts, so a GiB costs 4 calls.
const batchBytes = 256 << 20

// sendParts hashes and signs the pending parts in batches, one batch ahead
// of the senders, and sends them Concurrency at a time.
func (u *upload) sendParts(ctx context.Context, st *state, plan api.Plan, pending []int) (map[int]string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batch := int(max(1, min(api.MaxPartsPerRequest, batchBytes/plan.PartSize)))
	ready := make(chan signedPart, batch)

	go func() {
		defer close(ready)
		for start := 0; start < len(pending); start += batch {
			numbers := pending[start:min(start+batch, len(pending))]
			parts, err := u.signBatch(ctx, st, plan, numbers)
			if err != nil {
				cancel(err)
				return
			}
			for _, p := range parts {
				select {
				case ready <- p:
				case <-ctx.Done():
					return
				}
			}
		}
	}()

	var mu sync.Mutex
	etags := make(map[int]string, len(pending))
	var wg sync.WaitGroup
	for range u.c.Concurrency {
		wg.Go(func() {
			for p := range ready {
				if ctx.Err() != nil {
					continue
				}
				resign := func(ctx context.Context) (string, map[string]string, error) {
					fresh, err := u.sign(ctx, st, []int{p.number}, []string{p.sum})
					if err != nil {
						return "", nil, err
					}
					return fresh[0].URL, fresh[0].Headers, nil
				}
				offset := int64(p.number-1) * plan.PartSize
				etag, err := u.put(ctx, p.url, p.headers, offset, plan.PartLength(p.number), resign)
				if err != nil {
					cancel(fmt.Errorf("part %d: %w", p.number, err))
					continue
				}
				mu.Lock()
				etags[p.number] = etag
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return etags, nil
}

// signBatch hashes the parts in parallel and signs them in one call.
func (u *upload) signBatch(ctx context.Context, st *state, plan api.Plan, numbers []int) ([]signedPart, error) {
	sums := make([]string, len(numbers))
	errs := make([]error, len(numbers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, u.c.Concurrency)
	for i, n := range numbers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			h := sha256.New()
			_, errs[i] = io.Copy(h, io.NewSectionReader(u.r, int64(n-1)*plan.PartSize, plan.PartLength(n)))
			sums[i] = base64.StdEncoding.EncodeToString(h.Sum(nil))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	signed, err := u.sign(ctx, st, numbers, sums)
	if err != nil {
		return nil, err
	}
	out := make([]signedPart, len(signed))
	for i, s := range signed {
		out[i] = signedPart{number: s.PartNumber, url: s.URL, headers: s.Headers, sum: sums[i]}
	}
	return out, nil
}

func (u *upload) sign(ctx context.Context, st *state, numbers []int, sums []string) ([]api.SignedPart, error) {
	var resp api.SignPartsResponse
	if err := u.api(ctx, api.SignParts, []string{st.UploadID}, api.SignPartsRequest{
		FileKey: st.FileKey, Size: st.Size, PartNumbers: numbers, ChecksumsSHA256: sums,
	}, &resp); err != nil {
		return nil, err
	}
	if len(resp.Parts) != len(numbers) {
		return nil, fmt.Errorf("asked to sign %d parts, got %d", len(numbers), len(resp.Parts))
	}
	return resp.Parts, nil
}
