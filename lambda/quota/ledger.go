// Package quota keeps each caller's upload quota in a ledger: one small
// JSON object per caller in the upload bucket, updated with S3's
// conditional writes as a compare-and-swap (created with If-None-Match: *,
// replaced with If-Match on the ETag read, read again and retried with
// jitter on 412 or 409), so any number of function instances agree on it
// with no other service.
//
// An upload first reserves what it may store ([Ledger.Reserve]): the
// issuing route refuses it when a limit would be exceeded. The verifier's
// outcome settles the reservation with the size stored, once per stored
// object version ([Ledger.Settle]); a rejection settles it with nothing.
// An aborted multipart upload gives its reservation back
// ([Ledger.Release]), a deleted file its bytes ([Ledger.BeginRemove]), and a
// reservation whose URL expired unused is swept whenever the ledger is
// read. Settlement is eventual: between a URL's expiry and its object's
// settlement the ledger may count the upload once as reserved or not at
// all; [Ledger.Reconcile] recomputes the stored bytes from a listing.
//
// The upload function and the verifier both use it; neither imports the
// other.
package quota

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/lambda/internal/s3err"
)

// Bucket is the part of the S3 API a ledger calls. *s3.Client satisfies
// it.
type Bucket interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Ledger keeps the ledgers of one bucket. It is safe for concurrent use.
type Ledger struct {
	bucket Bucket
	name   string // the bucket's name
	prefix string // the ledgers' key prefix
	now    func() time.Time
	// attempts bounds the compare-and-swap rounds of one change.
	attempts int
	// pause returns how long to wait before round n (1-based).
	pause func(n int) time.Duration
	// maxPending and maxSettled bound a ledger's entries.
	maxPending, maxSettled int
}

// Option changes a Ledger.
type Option func(*Ledger)

// WithClock makes the ledger read the time from now: it decides the day
// and which reservations have expired.
func WithClock(now func() time.Time) Option { return func(l *Ledger) { l.now = now } }

// New returns the ledgers kept under prefix in bucket name.
func New(b Bucket, name, prefix string, opts ...Option) *Ledger {
	l := &Ledger{bucket: b, name: name, prefix: prefix, now: time.Now, attempts: maxAttempts, pause: jitter,
		maxPending: maxReservations, maxSettled: maxSettled}
	for _, o := range opts {
		o(l)
	}
	return l
}

// maxAttempts bounds one change's rounds: each round at least one
// contender's write lands, so a caller racing with itself this many times
// over is a caller in a loop.
const maxAttempts = 64

// jitter spreads contenders' retries: a random wait that grows with the
// round, up to 100 ms.
func jitter(n int) time.Duration {
	limit := time.Duration(min(n, 10)) * 10 * time.Millisecond
	return time.Duration(rand.Int64N(int64(limit) + 1))
}

// ErrBusy means a ledger changed under every attempt to change it.
var ErrBusy = errors.New("quota ledger busy: too many concurrent changes")

// ErrTooManyPending means a caller has as many uploads issued and not yet
// settled as one ledger holds (maxReservations): the next is refused until
// some are stored or their URLs expire.
var ErrTooManyPending = fmt.Errorf("quota ledger full: over %d uploads pending", maxReservations)

// A ledger's size is bounded, whatever the limits, so that reading and
// writing it stays cheap: at most maxReservations uploads pending, and
// settled objects remembered settledMemory, at most maxSettled of them
// (the oldest forgotten first), so a late duplicate of a settlement is not
// counted twice. Entries are named by a 128-bit digest of the object key
// or verdict (entryID), about 100 bytes each: a full ledger is near 2 MB.
const (
	maxReservations = 10_000
	maxSettled      = 10_000
	settledMemory   = 7 * 24 * time.Hour
)

// entryID names a reservation or a settlement in the ledger: keys and
// verdicts may be a kilobyte long, their digests are 22 characters.
func entryID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// state is one caller's ledger as stored.
type state struct {
	// StoredBytes are the bytes of the caller's settled, verified
	// uploads.
	StoredBytes int64 `json:"storedBytes"`
	// Day is the UTC day DayBytes and DayFiles count.
	Day      string `json:"day"`
	DayBytes int64  `json:"dayBytes"`
	DayFiles int64  `json:"dayFiles"`
	// Reservations are the uploads issued and not yet settled, by the
	// entryID of their key.
	Reservations map[string]reservation `json:"reservations,omitempty"`
	// Settled remembers when each stored object version (by the entryID
	// of the verifier's idempotency key) was settled.
	Settled map[string]time.Time `json:"settled,omitempty"`
	// Deleting are the files being deleted, by the entryID of their key,
	// whose bytes StoredBytes no longer counts.
	Deleting map[string]deletion `json:"deleting,omitempty"`
}

type deletion struct {
	Bytes   int64     `json:"bytes"`
	Expires time.Time `json:"expires"`
}

// deletionMemory is how long a deletion is remembered if its end is never
// recorded (the function stopped between the two writes): a reconcile
// after that counts the file again if it is still there.
const deletionMemory = time.Hour

// maxDeleting bounds the deletions a ledger remembers: each lasts two S3
// calls, so more at once are a caller in a loop, told ErrBusy.
const maxDeleting = 1_000

type reservation struct {
	Bytes     int64     `json:"bytes"`
	Multipart bool      `json:"multipart,omitempty"`
	Expires   time.Time `json:"expires"`
}

// usage is what the state counts now.
func (s *state) usage() api.QuotaUsage {
	u := api.QuotaUsage{StoredBytes: s.StoredBytes, BytesToday: s.DayBytes, FilesToday: s.DayFiles}
	for _, r := range s.Reservations {
		u.ReservedBytes += r.Bytes
		if r.Multipart {
			u.Sessions++
		}
	}
	u.Bytes = u.StoredBytes + u.ReservedBytes
	return u
}

// tidy starts a new day's counters, sweeps the reservations that expired
// unused and the deletions whose end was never recorded, and forgets old
// settlements. (Settle keeps the settlements within their bound.)
func (s *state) tidy(now time.Time) {
	if day := dayOf(now); s.Day != day {
		s.Day, s.DayBytes, s.DayFiles = day, 0, 0
	}
	for key, r := range s.Reservations {
		if now.After(r.Expires) {
			delete(s.Reservations, key)
		}
	}
	for id, d := range s.Deleting {
		if now.After(d.Expires) {
			delete(s.Deleting, id)
		}
	}
	for id, at := range s.Settled {
		if now.Sub(at) > settledMemory {
			delete(s.Settled, id)
		}
	}
}

func (s *state) forgetOldestSettlement() {
	var oldest string
	var at time.Time
	for id, t := range s.Settled {
		if oldest == "" || t.Before(at) || t.Equal(at) && id < oldest {
			oldest, at = id, t
		}
	}
	delete(s.Settled, oldest)
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// nextDay is when the UTC day after t starts.
func nextDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// Reservation is what an upload may store.
type Reservation struct {
	// Key is the object key the upload was issued: it names the
	// reservation until it is settled or released.
	Key       string
	Bytes     int64
	Multipart bool
	// Expires is when the upload can no longer store anything: the URL's
	// expiry, or a multipart upload's lifetime.
	Expires time.Time
}

// Exceeded is a refusal: the reservation would exceed a limit.
type Exceeded struct{ api.QuotaRefusal }

func (e *Exceeded) Error() string { return e.Message() }

// Reserve records r against the caller's limits, or refuses it with an
// *Exceeded naming the first limit it would exceed; nothing is recorded
// then.
func (l *Ledger) Reserve(ctx context.Context, caller string, limits api.QuotaLimits, r Reservation) error {
	return l.update(ctx, caller, func(s *state, now time.Time) (bool, error) {
		u := s.usage()
		retry := int64(nextDay(now).Sub(now).Seconds()) + 1
		sessions := int64(0)
		if r.Multipart {
			sessions = 1
		}
		// What each dimension would hold; the per-day ones lift at midnight.
		for _, c := range []api.QuotaRefusal{
			{Dimension: api.QuotaBytes, Limit: int64(limits.Bytes), Used: u.Bytes, Needed: r.Bytes},
			{Dimension: api.QuotaBytesPerDay, Limit: int64(limits.BytesPerDay), Used: u.BytesToday, Needed: r.Bytes, RetryAfter: retry},
			{Dimension: api.QuotaFilesPerDay, Limit: int64(limits.FilesPerDay), Used: u.FilesToday, Needed: 1, RetryAfter: retry},
			{Dimension: api.QuotaSessions, Limit: int64(limits.Sessions), Used: u.Sessions, Needed: sessions},
		} {
			if c.Limit > 0 && c.Needed > 0 && c.Used+c.Needed > c.Limit {
				c.Remaining = max(0, c.Limit-c.Used)
				return false, &Exceeded{c}
			}
		}
		id := entryID(r.Key)
		if _, again := s.Reservations[id]; !again && len(s.Reservations) >= l.maxPending {
			return false, ErrTooManyPending
		}
		if s.Reservations == nil {
			s.Reservations = map[string]reservation{}
		}
		s.Reservations[id] = reservation{Bytes: r.Bytes, Multipart: r.Multipart, Expires: r.Expires}
		s.DayBytes += r.Bytes
		s.DayFiles++
		return true, nil
	})
}

// Settle ends the reservation of key with the object the verifier judged:
// a kept (verified) object's size counts as stored, a rejected one's as
// nothing. verdict names the stored object version; settling it again
// changes nothing.
func (l *Ledger) Settle(ctx context.Context, caller, key, verdict string, size int64, kept bool) error {
	return l.update(ctx, caller, func(s *state, now time.Time) (bool, error) {
		v := entryID(verdict)
		if _, done := s.Settled[v]; done {
			return false, nil
		}
		delete(s.Reservations, entryID(key))
		if kept {
			s.StoredBytes += size
		}
		if s.Settled == nil {
			s.Settled = map[string]time.Time{}
		}
		if len(s.Settled) >= l.maxSettled {
			s.forgetOldestSettlement()
		}
		s.Settled[v] = now
		return true, nil
	})
}

// Release gives back the reservation of key: an upload that will store
// nothing (an aborted multipart upload).
func (l *Ledger) Release(ctx context.Context, caller, key string) error {
	return l.update(ctx, caller, func(s *state, _ time.Time) (bool, error) {
		id := entryID(key)
		if _, ok := s.Reservations[id]; !ok {
			return false, nil
		}
		delete(s.Reservations, id)
		return true, nil
	})
}

// BeginRemove gives back the size bytes of the file at key before it is
// deleted, and remembers the deletion until EndRemove, so that a reconcile
// listing the file meanwhile does not count it again. It reports false,
// with nothing given back, when the file's deletion is already under way.
func (l *Ledger) BeginRemove(ctx context.Context, caller, key string, size int64) (bool, error) {
	id, began := entryID(key), false
	err := l.update(ctx, caller, func(s *state, now time.Time) (bool, error) {
		began = false
		if _, busy := s.Deleting[id]; busy {
			return false, nil
		}
		if len(s.Deleting) >= maxDeleting {
			return false, ErrBusy
		}
		if s.Deleting == nil {
			s.Deleting = map[string]deletion{}
		}
		s.Deleting[id] = deletion{Bytes: size, Expires: now.Add(deletionMemory)}
		s.StoredBytes = max(0, s.StoredBytes-size)
		began = true
		return true, nil
	})
	return began && err == nil, err
}

// EndRemove ends the deletion BeginRemove began: deleted says whether the
// file is gone; if not, its bytes count again.
func (l *Ledger) EndRemove(ctx context.Context, caller, key string, deleted bool) error {
	id := entryID(key)
	return l.update(ctx, caller, func(s *state, _ time.Time) (bool, error) {
		d, ok := s.Deleting[id]
		if !ok {
			return false, nil
		}
		delete(s.Deleting, id)
		if !deleted {
			s.StoredBytes += d.Bytes
		}
		return true, nil
	})
}

// Reconcile sets the caller's stored bytes to what a listing of its files
// (object key to size, from list) found, fixing any drift; reservations
// and the day's counts are kept. A listed file whose reservation is still
// open is not yet settled, and counts as reserved only, not twice. The
// listing is taken after the ledger is read and the result written only if
// the ledger is still the one read, so a settlement or delete during the
// listing is not lost: the reconcile lists again, reconcileAttempts times
// at most, then gives up with ErrBusy.
func (l *Ledger) Reconcile(ctx context.Context, caller string, list func(context.Context) (map[string]int64, error)) error {
	return l.updateWithin(ctx, caller, reconcileAttempts, func(s *state, _ time.Time) (bool, error) {
		files, err := list(ctx)
		if err != nil {
			return false, err
		}
		var stored int64
		for key, size := range files {
			id := entryID(key)
			_, pending := s.Reservations[id]
			_, deleting := s.Deleting[id]
			if !pending && !deleting {
				stored += size
			}
		}
		changed := s.StoredBytes != stored
		s.StoredBytes = stored
		return changed, nil
	})
}

// reconcileAttempts bounds a reconcile's listings: a caller whose ledger
// changes under each is uploading, and the drift will wait.
const reconcileAttempts = 3

// Usage returns the caller's usage now, the day it counts and when that
// day ends.
func (l *Ledger) Usage(ctx context.Context, caller string) (api.QuotaUsage, string, time.Time, error) {
	s, _, err := l.read(ctx, caller)
	if err != nil {
		return api.QuotaUsage{}, "", time.Time{}, err
	}
	now := l.now()
	s.tidy(now)
	return s.usage(), s.Day, nextDay(now), nil
}

// update applies change to the caller's ledger as a compare-and-swap:
// read, tidy, change, write on condition that nobody wrote in between;
// on a lost race, again. change returns whether it changed anything (no
// write otherwise) or an error that ends the update unwritten.
func (l *Ledger) update(ctx context.Context, caller string, change func(*state, time.Time) (bool, error)) error {
	return l.updateWithin(ctx, caller, l.attempts, change)
}

// updateWithin is update in at most attempts rounds.
func (l *Ledger) updateWithin(ctx context.Context, caller string, attempts int, change func(*state, time.Time) (bool, error)) error {
	for n := 1; n <= attempts; n++ {
		if n > 1 {
			if err := sleep(ctx, l.pause(n)); err != nil {
				return err
			}
		}
		s, etag, err := l.read(ctx, caller)
		if err != nil {
			return err
		}
		now := l.now()
		s.tidy(now)
		changed, err := change(&s, now)
		if err != nil || !changed {
			return err
		}
		err = l.write(ctx, caller, s, etag)
		switch {
		case err == nil:
			return nil
		case lostRace(err):
			continue // another writer won this round
		default:
			return err
		}
	}
	return ErrBusy
}

func (l *Ledger) key(caller string) string { return l.prefix + caller }

// maxLedger bounds a ledger read.
const maxLedger = 4 << 20

// read returns the caller's ledger and its ETag; a ledger never written is
// empty, with no ETag.
func (l *Ledger) read(ctx context.Context, caller string) (state, string, error) {
	var s state
	out, err := l.bucket.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.name), Key: aws.String(l.key(caller))})
	if s3err.Status(err) == http.StatusNotFound || s3err.Code(err) == "NoSuchKey" {
		return s, "", nil
	}
	if err != nil {
		return s, "", fmt.Errorf("read quota ledger %s: %w", caller, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxLedger))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		return s, "", fmt.Errorf("read quota ledger %s: %w", caller, err)
	}
	return s, aws.ToString(out.ETag), nil
}

// write stores s if the ledger is still the one read: the one with etag,
// or none when etag is "".
func (l *Ledger) write(ctx context.Context, caller string, s state, etag string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{Bucket: aws.String(l.name), Key: aws.String(l.key(caller)), Body: bytes.NewReader(b),
		ContentType: aws.String("application/json")}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	if _, err := l.bucket.PutObject(ctx, in); err != nil {
		if lostRace(err) {
			return err
		}
		return fmt.Errorf("write quota ledger %s: %w", caller, err)
	}
	return nil
}

// lostRace reports whether a conditional write failed because another
// writer's landed first (412), or was landing (409).
func lostRace(err error) bool {
	switch s3err.Status(err) {
	case http.StatusPreconditionFailed, http.StatusConflict:
		return true
	}
	code := s3err.Code(err)
	return code == "PreconditionFailed" || code == "ConditionalRequestConflict"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
