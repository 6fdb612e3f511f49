package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// progressBar draws one line per file on a terminal: bytes, rate and ETA.
// It draws nothing when disabled (stdout not a terminal, or -q).
type progressBar struct {
	w       io.Writer
	enabled bool

	mu    sync.Mutex
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	return &progressBar{w: w, enabled: enabled}
}

func (b *progressBar) update(p uploader.Progress) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	if now.Sub(b.last) < 100*time.Millisecond && p.Sent < p.Total {
		return
	}
	b.last = now
	fmt.Fprintf(b.w, "\r\033[K%s", render(p, now.Sub(b.start)))
	b.drawn = true
}

func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
	b.start, b.last, b.drawn = time.Time{}, time.Time{}, false
}

// render formats one progress line.
func render(p uploader.Progress, elapsed time.Duration) string {
	const width = 24
	frac := 0.0
	if p.Total > 0 {
		frac = min(1, max(0, float64(p.Sent)/float64(p.Total)))
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(p.Sent) / s
	}
	eta := "--:--"
	if rate > 0 && p.Sent < p.Total {
		left := time.Duration(float64(p.Total-p.Sent) / rate * float64(time.Second))
		eta = fmt.Sprintf("%02d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	} else if p.Sent >= p.Total {
		eta = "done"
	}
	return fmt.Sprintf("%s [%s] %3.0f%% %s / %s  %s/s  ETA %s", p.Name, bar, frac*100, api.FormatBytes(p.Sent), api.FormatBytes(p.Total), api.FormatBytes(int64(rate)), eta)
}
