package quota

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/presigned-upload/presigned-upload/api"
)

// fakeBucket keeps objects in memory with S3's conditional writes:
// If-None-Match: * and If-Match refuse with 412, atomically. conflicts,
// when set, answers the next writes with 409 (ConditionalRequestConflict),
// as S3 does to concurrent conditional writes; before, when set, runs
// before each write, outside the lock.
type fakeBucket struct {
	mu        sync.Mutex
	objects   map[string][]byte
	conflicts int
	before    func()
	writes    int
}

func newFakeBucket() *fakeBucket { return &fakeBucket{objects: map[string][]byte{}} }

func s3Error(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}}
}

func etagOf(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (b *fakeBucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	data, ok := b.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, s3Error(http.StatusNotFound, "NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ETag: aws.String(etagOf(data))}, nil
}

func (b *fakeBucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if b.before != nil {
		b.before()
	}
	data, _ := io.ReadAll(in.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	if b.conflicts > 0 {
		b.conflicts--
		return nil, s3Error(http.StatusConflict, "ConditionalRequestConflict")
	}
	cur, exists := b.objects[aws.ToString(in.Key)]
	switch {
	case in.IfNoneMatch != nil && exists:
		return nil, s3Error(http.StatusPreconditionFailed, "PreconditionFailed")
	case in.IfMatch != nil && (!exists || *in.IfMatch != etagOf(cur)):
		return nil, s3Error(http.StatusPreconditionFailed, "PreconditionFailed")
	}
	b.objects[aws.ToString(in.Key)] = data
	return &s3.PutObjectOutput{ETag: aws.String(etagOf(data))}, nil
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newLedger(b *fakeBucket, c *clock) *Ledger {
	l := New(b, "bucket", "upload-quotas/", WithClock(c.now))
	l.pause = func(int) time.Duration { return 0 }
	return l
}

const mib = 1 << 20

var morning = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

func usage(t *testing.T, l *Ledger, caller string) api.QuotaUsage {
	t.Helper()
	u, _, _, err := l.Usage(context.Background(), caller)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func reserve(l *Ledger, caller string, limits api.QuotaLimits, key string, size int64, multipart bool) error {
	return l.Reserve(context.Background(), caller, limits, Reservation{Key: key, Bytes: size, Multipart: multipart, Expires: morning.Add(5 * time.Minute)})
}

// Each dimension refuses the reservation that would pass it, naming what
// is left, and records nothing then.
func TestReserveRefusesOverALimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		limits    api.QuotaLimits
		size      int64
		multipart bool
		want      api.QuotaRefusal
	}{
		{"stored bytes", api.QuotaLimits{Bytes: 10 * mib}, 5 * mib, false,
			api.QuotaRefusal{Dimension: api.QuotaBytes, Limit: 10 * mib, Used: 8 * mib, Remaining: 2 * mib, Needed: 5 * mib}},
		{"bytes per day", api.QuotaLimits{BytesPerDay: 9 * mib}, 2 * mib, false,
			api.QuotaRefusal{Dimension: api.QuotaBytesPerDay, Limit: 9 * mib, Used: 8 * mib, Remaining: mib, Needed: 2 * mib, RetryAfter: 15*3600 + 1}},
		{"files per day", api.QuotaLimits{FilesPerDay: 2}, 1, false,
			api.QuotaRefusal{Dimension: api.QuotaFilesPerDay, Limit: 2, Used: 2, Remaining: 0, Needed: 1, RetryAfter: 15*3600 + 1}},
		{"sessions", api.QuotaLimits{Sessions: 1}, 1, true,
			api.QuotaRefusal{Dimension: api.QuotaSessions, Limit: 1, Used: 1, Remaining: 0, Needed: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBucket()
			l := newLedger(b, &clock{t: morning})
			// 8 MiB in two uploads, one of them multipart.
			if err := reserve(l, "alice", api.QuotaLimits{}, "k1", 5*mib, true); err != nil {
				t.Fatal(err)
			}
			if err := reserve(l, "alice", api.QuotaLimits{}, "k2", 3*mib, false); err != nil {
				t.Fatal(err)
			}
			before := usage(t, l, "alice")
			err := reserve(l, "alice", tc.limits, "k3", tc.size, tc.multipart)
			var ex *Exceeded
			if !errors.As(err, &ex) || ex.QuotaRefusal != tc.want {
				t.Fatalf("Reserve = %v, want %+v", err, tc.want)
			}
			if after := usage(t, l, "alice"); after != before {
				t.Errorf("usage after a refusal = %+v, want %+v", after, before)
			}
			if err := reserve(l, "alice", tc.limits, "k4", 0, false); tc.want.Dimension != api.QuotaFilesPerDay && tc.want.Dimension != api.QuotaSessions && err != nil {
				t.Errorf("an upload within every limit was refused: %v", err)
			}
		})
	}
}

// A reservation lives until it is settled, released or expired; a verified
// object's size then counts as stored, a rejected one's as nothing, and a
// delete gives its bytes back.
func TestReservationsLifecycle(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: morning}
	l := newLedger(b, c)
	limits := api.QuotaLimits{Bytes: 10 * mib}
	ctx := context.Background()
	for i, key := range []string{"verified", "rejected", "aborted", "expired"} {
		if err := l.Reserve(ctx, "alice", limits, Reservation{Key: key, Bytes: 2 * mib, Multipart: key == "aborted",
			Expires: morning.Add(time.Duration(i+1) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what string, stored, reserved, sessions int64) {
		t.Helper()
		u := usage(t, l, "alice")
		if u.StoredBytes != stored || u.ReservedBytes != reserved || u.Bytes != stored+reserved || u.Sessions != sessions {
			t.Errorf("%s: usage = %+v, want %d stored, %d reserved, %d sessions", what, u, stored, reserved, sessions)
		}
	}
	want("four reserved", 0, 8*mib, 1)
	if err := l.Settle(ctx, "alice", "verified", "v1", 2*mib-5, true); err != nil {
		t.Fatal(err)
	}
	want("one verified", 2*mib-5, 6*mib, 1)
	if err := l.Settle(ctx, "alice", "verified", "v1", 2*mib-5, true); err != nil {
		t.Fatal(err)
	}
	want("settled twice", 2*mib-5, 6*mib, 1)
	if err := l.Settle(ctx, "alice", "rejected", "v2", 2*mib, false); err != nil {
		t.Fatal(err)
	}
	want("one rejected", 2*mib-5, 4*mib, 1)
	if err := l.Release(ctx, "alice", "aborted"); err != nil {
		t.Fatal(err)
	}
	want("one aborted", 2*mib-5, 2*mib, 0)
	c.set(morning.Add(4*time.Hour + time.Second))
	want("one expired", 2*mib-5, 0, 0)
	if began, err := l.BeginRemove(ctx, "alice", "verified", 2*mib-5); err != nil || !began {
		t.Fatal(began, err)
	}
	if err := l.EndRemove(ctx, "alice", "verified", true); err != nil {
		t.Fatal(err)
	}
	want("deleted", 0, 0, 0)
	// A settlement after its URL expired still counts what was stored.
	if err := l.Settle(ctx, "alice", "expired", "v3", mib, true); err != nil {
		t.Fatal(err)
	}
	want("settled after expiry", mib, 0, 0)
	if err := l.Reconcile(ctx, "alice", listing(map[string]int64{"verified": 3, "other": 4})); err != nil {
		t.Fatal(err)
	}
	want("reconciled", 7, 0, 0)
	if u := usage(t, l, "alice"); u.FilesToday != 4 || u.BytesToday != 8*mib {
		t.Errorf("today = %d files, %d bytes, want 4 and 8 MiB: what was given back was still uploaded today", u.FilesToday, u.BytesToday)
	}
}

// The per-day counts start afresh at midnight UTC.
func TestDayRollsOver(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC)}
	l := newLedger(b, c)
	limits := api.QuotaLimits{FilesPerDay: 1}
	ctx := context.Background()
	res := func(key string) error {
		return l.Reserve(ctx, "alice", limits, Reservation{Key: key, Bytes: 1, Expires: c.now().Add(time.Minute)})
	}
	if err := res("a"); err != nil {
		t.Fatal(err)
	}
	var ex *Exceeded
	if err := res("b"); !errors.As(err, &ex) || ex.RetryAfter != 61 {
		t.Fatalf("second upload of the day = %v, want refused until midnight (61 s)", err)
	}
	c.set(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	if err := res("c"); err != nil {
		t.Errorf("first upload of the next day = %v", err)
	}
	if _, day, resets, _ := l.Usage(ctx, "alice"); day != "2026-12-07" || !resets.Equal(time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("day %s resets at %s", day, resets)
	}
}

// A write that loses the race (412) or meets a concurrent one (409) is
// retried on a fresh read, so the other writer's change is kept; a ledger
// that changes under every attempt gives up with ErrBusy.
func TestCompareAndSwapRetries(t *testing.T) {
	t.Run("412: another writer won", func(t *testing.T) {
		b := newFakeBucket()
		l := newLedger(b, &clock{t: morning})
		other := newLedger(b, &clock{t: morning})
		raced := false
		b.before = func() {
			if raced {
				return
			}
			raced = true // before the other's own write runs this again
			if err := reserve(other, "alice", api.QuotaLimits{}, "theirs", 3, false); err != nil {
				t.Error(err)
			}
		}
		if err := reserve(l, "alice", api.QuotaLimits{Bytes: 10}, "mine", 5, false); err != nil {
			t.Fatal(err)
		}
		b.before = nil
		if u := usage(t, l, "alice"); u.ReservedBytes != 8 || u.FilesToday != 2 {
			t.Errorf("usage = %+v, want both reservations", u)
		}
	})
	t.Run("409: a concurrent conditional write", func(t *testing.T) {
		b := newFakeBucket()
		b.conflicts = 3
		l := newLedger(b, &clock{t: morning})
		if err := reserve(l, "alice", api.QuotaLimits{}, "mine", 5, false); err != nil {
			t.Fatal(err)
		}
		if b.writes != 4 {
			t.Errorf("%d writes, want 3 conflicts and one that landed", b.writes)
		}
	})
	t.Run("busy", func(t *testing.T) {
		b := newFakeBucket()
		b.conflicts = maxAttempts
		l := newLedger(b, &clock{t: morning})
		if err := reserve(l, "alice", api.QuotaLimits{}, "mine", 5, false); !errors.Is(err, ErrBusy) {
			t.Errorf("Reserve = %v, want ErrBusy", err)
		}
	})
	t.Run("another failure is not retried", func(t *testing.T) {
		l := New(failingBucket{}, "bucket", "upload-quotas/")
		if err := reserve(l, "alice", api.QuotaLimits{}, "mine", 5, false); err == nil || errors.Is(err, ErrBusy) {
			t.Errorf("Reserve = %v, want the bucket's error", err)
		}
	})
}

type failingBucket struct{}

func (failingBucket) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, s3Error(http.StatusForbidden, "AccessDenied")
}

func (failingBucket) PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return nil, s3Error(http.StatusForbidden, "AccessDenied")
}

// Concurrent reservations against one limit: exactly as many as fit
// succeed, whatever the interleaving.
func TestConcurrentReservations(t *testing.T) {
	b := newFakeBucket()
	l := newLedger(b, &clock{t: morning})
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted, refused := 0, 0
	for i := range 50 {
		wg.Go(func() {
			err := reserve(l, "alice", api.QuotaLimits{Bytes: 10 * mib}, fmt.Sprint("k", i), mib, false)
			var ex *Exceeded
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				granted++
			case errors.As(err, &ex):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if granted != 10 || refused != 40 {
		t.Errorf("granted %d, refused %d; want 10 and 40", granted, refused)
	}
}

// Two callers' ledgers are two objects.
func TestCallersDoNotShare(t *testing.T) {
	b := newFakeBucket()
	l := newLedger(b, &clock{t: morning})
	if err := reserve(l, "alice", api.QuotaLimits{}, "a", 5, false); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, l, "bob"); u != (api.QuotaUsage{}) {
		t.Errorf("bob's usage = %+v, want none", u)
	}
	if _, ok := b.objects["upload-quotas/alice"]; !ok || len(b.objects) != 1 {
		t.Errorf("objects = %v, want alice's ledger alone", b.objects)
	}
}

// A reconcile counts a listed file whose reservation is open as reserved
// only: its settlement, later, counts it as stored once.
func TestReconcileCountsPendingFilesOnce(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: morning}
	l := newLedger(b, c)
	ctx := context.Background()
	if err := reserve(l, "alice", api.QuotaLimits{Bytes: 10 * mib}, "pending", 2*mib, false); err != nil {
		t.Fatal(err)
	}
	if err := l.Reconcile(ctx, "alice", listing(map[string]int64{"pending": 2 * mib, "old": 5})); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, l, "alice"); u.StoredBytes != 5 || u.ReservedBytes != 2*mib || u.Bytes != 2*mib+5 {
		t.Errorf("after reconcile: usage = %+v, want 5 stored and 2 MiB reserved", u)
	}
	if err := l.Settle(ctx, "alice", "pending", "v1", 2*mib, true); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, l, "alice"); u.StoredBytes != 2*mib+5 || u.ReservedBytes != 0 {
		t.Errorf("after settlement: usage = %+v, want 2 MiB + 5 stored, none reserved", u)
	}
}

// A ledger holds at most so many pending uploads and remembered
// settlements, whatever the limits: the next upload is refused with
// nothing recorded, the oldest settlement forgotten.
func TestLedgerSizeIsBounded(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: morning}
	l := newLedger(b, c)
	l.maxPending, l.maxSettled = 3, 3
	ctx := context.Background()
	for i := range 3 {
		if err := reserve(l, "alice", api.QuotaLimits{}, fmt.Sprint("k", i), 1, false); err != nil {
			t.Fatal(err)
		}
	}
	writes := b.writes
	if err := reserve(l, "alice", api.QuotaLimits{}, "k3", 1, false); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("fourth pending upload: err = %v, want ErrTooManyPending", err)
	}
	if b.writes != writes {
		t.Error("a refused reservation wrote the ledger")
	}
	if u := usage(t, l, "alice"); u.ReservedBytes != 3 || u.FilesToday != 3 {
		t.Errorf("usage = %+v, want the three first uploads only", u)
	}
	for i := range 5 {
		c.set(morning.Add(time.Duration(i) * time.Minute))
		if err := l.Settle(ctx, "alice", fmt.Sprint("k", i), fmt.Sprint("v", i), 10, true); err != nil {
			t.Fatal(err)
		}
	}
	s, _, err := l.read(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Settled) != 3 {
		t.Errorf("%d settlements remembered, want 3", len(s.Settled))
	}
	if _, ok := s.Settled[entryID("v0")]; ok {
		t.Error("the oldest settlement is still remembered")
	}
	if _, ok := s.Settled[entryID("v4")]; !ok {
		t.Error("the newest settlement is forgotten")
	}
}

// A full ledger, with the longest keys S3 allows, stays well inside what
// a read accepts.
func TestFullLedgerFitsARead(t *testing.T) {
	s := state{StoredBytes: 1 << 50, Day: "2026-12-06", DayBytes: 1 << 50, DayFiles: 1 << 20,
		Reservations: map[string]reservation{}, Settled: map[string]time.Time{}}
	long := string(bytes.Repeat([]byte("k"), 1000))
	for i := range maxReservations {
		s.Reservations[entryID(fmt.Sprint(long, i))] = reservation{Bytes: 5 << 40, Multipart: true, Expires: morning}
	}
	for i := range maxSettled {
		s.Settled[entryID(fmt.Sprint(long, "v", i))] = morning
	}
	s.Deleting = map[string]deletion{}
	for i := range maxDeleting {
		s.Deleting[entryID(fmt.Sprint(long, "d", i))] = deletion{Bytes: 5 << 40, Expires: morning}
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > maxLedger/2 {
		t.Errorf("a full ledger is %d bytes, over half of the %d a read accepts", len(b), maxLedger)
	}
	t.Logf("a full ledger is %d bytes", len(b))
}

// listing lists files.
func listing(files map[string]int64) func(context.Context) (map[string]int64, error) {
	return func(context.Context) (map[string]int64, error) { return files, nil }
}

// A settlement that lands while a reconcile lists is not lost: the
// reconcile's write fails its condition, and it lists again. A ledger that
// changes under every listing ends the reconcile with ErrBusy, unwritten.
func TestReconcileListsAgainWhenTheLedgerChanges(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: morning}
	l := newLedger(b, c)
	ctx := context.Background()
	if err := reserve(l, "alice", api.QuotaLimits{}, "new", 5, false); err != nil {
		t.Fatal(err)
	}
	files := map[string]int64{"old": 7}
	listings := 0
	err := l.Reconcile(ctx, "alice", func(context.Context) (map[string]int64, error) {
		listings++
		if listings == 1 {
			// "new" is stored and settled after the listing began.
			if err := l.Settle(ctx, "alice", "new", "v-new", 5, true); err != nil {
				t.Fatal(err)
			}
			return map[string]int64{"old": 7}, nil
		}
		files["new"] = 5
		return files, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := usage(t, l, "alice"); u.StoredBytes != 12 || listings != 2 {
		t.Errorf("stored %d after %d listings, want 12 after 2", u.StoredBytes, listings)
	}

	before := usage(t, l, "alice")
	listings = 0
	err = l.Reconcile(ctx, "alice", func(context.Context) (map[string]int64, error) {
		listings++
		if err := reserve(l, "alice", api.QuotaLimits{}, fmt.Sprint("busy", listings), 1, false); err != nil {
			t.Fatal(err)
		}
		return map[string]int64{}, nil
	})
	if !errors.Is(err, ErrBusy) || listings != reconcileAttempts {
		t.Errorf("err = %v after %d listings, want ErrBusy after %d", err, listings, reconcileAttempts)
	}
	if u := usage(t, l, "alice"); u.StoredBytes != before.StoredBytes {
		t.Errorf("a reconcile that gave up wrote %d stored bytes", u.StoredBytes)
	}
}

// A file's bytes are given back before it is deleted: a reconcile that
// lists it meanwhile does not count it, a second deletion of it gives
// nothing back, and a deletion that fails takes the bytes again.
func TestRemoveAgainstReconcile(t *testing.T) {
	b, c := newFakeBucket(), &clock{t: morning}
	l := newLedger(b, c)
	ctx := context.Background()
	files := map[string]int64{"a": 10, "b": 20}
	if err := l.Reconcile(ctx, "alice", listing(files)); err != nil {
		t.Fatal(err)
	}
	stored := func(want int64, what string) {
		t.Helper()
		if u := usage(t, l, "alice"); u.StoredBytes != want {
			t.Errorf("%s: %d bytes stored, want %d", what, u.StoredBytes, want)
		}
	}
	if began, err := l.BeginRemove(ctx, "alice", "a", 10); err != nil || !began {
		t.Fatal(began, err)
	}
	if began, err := l.BeginRemove(ctx, "alice", "a", 10); err != nil || began {
		t.Fatalf("a second deletion of a: began %v, err %v; want nothing given back", began, err)
	}
	stored(20, "deleting a")
	if err := l.Reconcile(ctx, "alice", listing(files)); err != nil { // a is still listed
		t.Fatal(err)
	}
	stored(20, "reconciled while a is being deleted")
	delete(files, "a")
	if err := l.EndRemove(ctx, "alice", "a", true); err != nil {
		t.Fatal(err)
	}
	if err := l.Reconcile(ctx, "alice", listing(files)); err != nil {
		t.Fatal(err)
	}
	stored(20, "a deleted and reconciled")

	if began, err := l.BeginRemove(ctx, "alice", "b", 20); err != nil || !began {
		t.Fatal(began, err)
	}
	stored(0, "deleting b")
	if err := l.EndRemove(ctx, "alice", "b", false); err != nil {
		t.Fatal(err)
	}
	stored(20, "b's deletion failed")

	// A deletion whose end was never recorded lapses: a reconcile then
	// counts the file, still there, again.
	if _, err := l.BeginRemove(ctx, "alice", "b", 20); err != nil {
		t.Fatal(err)
	}
	c.set(morning.Add(deletionMemory + time.Second))
	if err := l.Reconcile(ctx, "alice", listing(files)); err != nil {
		t.Fatal(err)
	}
	stored(20, "a lapsed deletion, reconciled")
}
