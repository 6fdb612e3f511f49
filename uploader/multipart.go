package uploader

import (
	"context"
	"crypto/sha256"
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
	// UploadSecret goes with every call about the upload.
	UploadSecret string `json:"uploadSecret"`
	// PartChecksums are the CRC64NVME checksums of the parts S3 took, by
	// part number: a resumed upload combines them into the whole file's
	// without reading those parts again.
	PartChecksums map[int]uint64 `json:"partChecksums,omitempty"`

	mu sync.Mutex // guards PartChecksums while parts are sent
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
	if json.Unmarshal(b, &s) != nil || s.Size != u.size || s.UploadID == "" || s.UploadSecret == "" {
		return nil
	}
	if s.PartChecksums == nil {
		s.PartChecksums = map[int]uint64{}
	}
	return &s
}

// saveState writes s to the state file. Every sender saves after its part,
// so saves take turns and each snapshots s only when its turn comes: the
// last one written then holds every part recorded. Each is written whole
// and synced to a temporary file of its own (another run of the same
// upload may be saving too), then renamed over the state: a crash leaves
// the old state or the new one, never half of one.
func (u *upload) saveState(s *state) error {
	p := u.statePath()
	if p == "" {
		return nil
	}
	u.saving.Lock()
	defer u.saving.Unlock()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	s.mu.Lock()
	b, err := json.Marshal(s)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// partDone records that S3 took part n with checksum sum.
func (u *upload) partDone(s *state, n int, sum uint64) {
	s.mu.Lock()
	s.PartChecksums[n] = sum
	s.mu.Unlock()
	_ = u.saveState(s) // a lost record only costs reading the part again on resume
}

// wholeChecksum combines the parts' checksums, in order, into the file's.
func (s *state) wholeChecksum(plan api.Plan) (uint64, error) {
	var sum uint64
	for n := 1; n <= plan.PartCount; n++ {
		part, ok := s.PartChecksums[n]
		if !ok {
			return 0, fmt.Errorf("no checksum of part %d", n)
		}
		if n == 1 {
			sum = part
			continue
		}
		sum = api.CombineCRC64NVME(sum, part, plan.PartLength(n))
	}
	return sum, nil
}

func (u *upload) dropState() {
	u.saving.Lock() // a save under way must not bring the state back
	defer u.saving.Unlock()
	if p := u.statePath(); p != "" {
		_ = os.Remove(p)
	}
}

// signedPart is a part ready to send.
type signedPart struct {
	number int
	signed
	sum uint64
}

func (u *upload) multipart(ctx context.Context) (res *Result, err error) {
	st := u.loadState()
	done := map[int]string{} // part number → ETag already in S3
	skipped := 0
	if st != nil {
		u.secret = st.UploadSecret
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
				if p.PartNumber < 1 || p.PartNumber > plan.PartCount || p.Size != plan.PartLength(p.PartNumber) {
					continue
				}
				// A part counts as sent only if it holds this file's bytes.
				ours, err := u.partChecksum(st, plan, p.PartNumber)
				if err != nil {
					return nil, err
				}
				if held, ok := api.DecodeCRC64NVME(p.ChecksumCRC64NVME); !ok || held != ours {
					continue
				}
				done[p.PartNumber] = p.ETag
				u.report(p.Size)
			}
			skipped = len(done)
		}
	}
	if st == nil {
		var started api.MultipartStartResponse
		if err := u.api(ctx, api.StartMultipart, nil, api.MultipartStartRequest{
			FileName: u.name, ContentType: u.contentType, Size: u.size, ChecksumAlgorithm: api.ChecksumAlgorithmCRC64NVME,
		}, &started); err != nil {
			return nil, err
		}
		st = &state{UploadID: started.UploadID, FileKey: started.FileKey, Size: u.size, PartSize: started.PartSize,
			UploadSecret: started.UploadSecret, PartChecksums: map[int]uint64{}}
		u.secret = st.UploadSecret
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
				// preventOverwrite: the key has an object; no retry can help,
				// so the parts are freed now rather than by the lifecycle rule.
				u.abort(st)
				u.dropState()
			case errors.As(err, &ae) && (ae.Status == http.StatusRequestEntityTooLarge || ae.Code == api.CodeUploadAborted):
				u.dropState() // the API aborted the upload
			case errors.As(err, &ae) && ae.Code == api.CodeBadDigest:
				// The parts S3 holds do not make up the file as read now:
				// it changed while it was uploading. Start afresh.
				u.abort(st)
				err = fmt.Errorf("%w (the file changed while it was uploading: the upload was aborted; upload it again)", err)
			default:
				err = fmt.Errorf("%w (all %d parts are in S3 and the upload %s is kept: run the same upload again to complete it)", err, plan.PartCount, st.FileKey)
			}
			return
		}
		if u.c.KeepPartial {
			err = fmt.Errorf("%w (kept upload %s for a resume)", err, st.FileKey)
			return
		}
		u.abort(st)
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
	whole, err := st.wholeChecksum(plan)
	if err != nil {
		return nil, err
	}
	completing = true
	var completed api.CompleteResponse
	if err := u.api(ctx, api.CompleteMultipart, []string{st.UploadID}, api.CompleteRequest{FileKey: st.FileKey, Parts: parts,
		ChecksumCRC64NVME: api.EncodeCRC64NVME(whole)}, &completed); err != nil {
		return nil, err
	}
	u.dropState()
	return &Result{FileKey: completed.FileKey, ETag: completed.ETag, Size: completed.Size, Multipart: true,
		ChecksumCRC64NVME: completed.ChecksumCRC64NVME, PartsSent: len(pending), PartsSkipped: skipped, APICalls: int(u.calls.Load())}, nil
}

// abort aborts the upload and forgets it; a failure leaves the state for
// a resume, and the bucket's lifecycle rule for the parts.
func (u *upload) abort(st *state) {
	// A fresh context: the upload's may be what failed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := u.api(ctx, api.AbortMultipart, []string{st.UploadID}, api.UploadRef{FileKey: st.FileKey}, nil); err == nil {
		u.dropState()
	}
}

// partChecksum returns part n's checksum: recorded when it was sent, or
// read from the file.
func (u *upload) partChecksum(st *state, plan api.Plan, n int) (uint64, error) {
	st.mu.Lock()
	sum, ok := st.PartChecksums[n]
	st.mu.Unlock()
	if ok {
		return sum, nil
	}
	sum, err := u.readChecksum(plan, n)
	if err != nil {
		return 0, err
	}
	u.partDone(st, n, sum)
	return sum, nil
}

// readChecksum reads part n of the file and returns its checksum.
func (u *upload) readChecksum(plan api.Plan, n int) (uint64, error) {
	h := api.NewCRC64NVME()
	_, err := io.Copy(h, io.NewSectionReader(u.r, int64(n-1)*plan.PartSize, plan.PartLength(n)))
	return h.Sum64(), err
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
				resign := func(ctx context.Context) (signed, error) {
					fresh, err := u.sign(ctx, st, []int{p.number}, []uint64{p.sum})
					if err != nil {
						return signed{}, err
					}
					p.signed = fresh[0].signed // a later retry keeps the fresh one
					return p.signed, nil
				}
				offset := int64(p.number-1) * plan.PartSize
				etag, err := u.put(ctx, p.signed, offset, plan.PartLength(p.number), resign)
				if err != nil {
					cancel(fmt.Errorf("part %d: %w", p.number, err))
					continue
				}
				u.partDone(st, p.number, p.sum)
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

// signBatch checksums the parts in parallel and signs them in one call.
func (u *upload) signBatch(ctx context.Context, st *state, plan api.Plan, numbers []int) ([]signedPart, error) {
	sums := make([]uint64, len(numbers))
	errs := make([]error, len(numbers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, u.c.Concurrency)
	for i, n := range numbers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			sums[i], errs[i] = u.readChecksum(plan, n)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return u.sign(ctx, st, numbers, sums)
}

// sign has the API sign the parts with their checksums; each signed part
// expires ExpiresIn after the answer.
func (u *upload) sign(ctx context.Context, st *state, numbers []int, sums []uint64) ([]signedPart, error) {
	encoded := make([]string, len(sums))
	for i, s := range sums {
		encoded[i] = api.EncodeCRC64NVME(s)
	}
	var resp api.SignPartsResponse
	if err := u.api(ctx, api.SignParts, []string{st.UploadID}, api.SignPartsRequest{
		FileKey: st.FileKey, Size: st.Size, PartNumbers: numbers, ChecksumsCRC64NVME: encoded,
	}, &resp); err != nil {
		return nil, err
	}
	if len(resp.Parts) != len(numbers) {
		return nil, fmt.Errorf("asked to sign %d parts, got %d", len(numbers), len(resp.Parts))
	}
	var expires time.Time // unknown when the API does not say
	if resp.ExpiresIn > 0 {
		expires = time.Now().Add(time.Duration(resp.ExpiresIn) * time.Second)
	}
	out := make([]signedPart, len(resp.Parts))
	for i, p := range resp.Parts {
		out[i] = signedPart{number: p.PartNumber, signed: signed{url: p.URL, headers: p.Headers, expires: expires}, sum: sums[i]}
	}
	return out, nil
}
