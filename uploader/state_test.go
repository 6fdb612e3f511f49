package uploader

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The resume state is internal, so these tests sit inside the package; the
// files they write are real ones in a temporary StateDir.

func newStateUpload(t *testing.T, parts int) (*upload, *state) {
	t.Helper()
	const partSize = 5 << 20
	u := &upload{c: &Client{StateDir: t.TempDir()}, size: int64(parts) * partSize, resumeKey: t.Name()}
	return u, &state{UploadID: "u1", FileKey: "uploads/key", Size: u.size, PartSize: partSize, UploadSecret: "s",
		PartChecksums: map[int]uint64{}}
}

// Every sender records its part from its own goroutine. However those saves
// interleave, the file they leave must load and hold every part: a state
// that does not load makes the next run start over, leaving the multipart
// upload it had begun to hold a quota session until S3 expires it.
func TestConcurrentSavesLeaveEveryPart(t *testing.T) {
	const parts, rounds = 8, 100
	for round := range rounds {
		u, st := newStateUpload(t, parts)
		var wg sync.WaitGroup
		for n := 1; n <= parts; n++ {
			wg.Go(func() { u.partDone(st, n, uint64(n)) })
		}
		wg.Wait()
		got := u.loadState()
		if got == nil {
			b, _ := os.ReadFile(u.statePath())
			t.Fatalf("round %d: the state file does not load: %q", round, b)
		}
		if len(got.PartChecksums) != parts {
			t.Fatalf("round %d: state holds parts %v, want all %d", round, got.PartChecksums, parts)
		}
		if entries, _ := os.ReadDir(u.c.StateDir); len(entries) != 1 {
			t.Fatalf("round %d: state dir holds %v, want the state file alone", round, names(entries))
		}
	}
}

// A save that fails removes its temporary file: each save writes its own,
// so leftovers would pile up in StateDir.
func TestFailedSaveLeavesNoTemporaryFile(t *testing.T) {
	u, st := newStateUpload(t, 1)
	// A directory where the state file goes makes the rename fail.
	if err := os.MkdirAll(filepath.Join(u.statePath(), "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := u.saveState(st); err == nil {
		t.Fatal("saveState over a directory succeeded")
	}
	if entries, _ := os.ReadDir(u.c.StateDir); len(entries) != 1 {
		t.Errorf("state dir holds %v, want only the directory in the way", names(entries))
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
