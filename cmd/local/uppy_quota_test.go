package main

import (
	"testing"
	"time"
)

// Through Uppy with the adapter, an upload over quota fails on its file in
// the Dashboard with the module's message and the refusal's code.
func TestUppyQuota(t *testing.T) {
	ctx := browser(t)
	p := startForQuota(t, "quota")
	uppyApp(t, ctx, p)

	for _, tc := range []struct {
		name    string
		size    int
		message string
	}{
		{"big.txt", 4 << 20, "Over quota: your stored-bytes quota has 3.0 MiB of 3.0 MiB left; this file needs 4.0 MiB."},
		// Past the multipart threshold: refused at its start.
		{"large.txt", 9 << 20, "Over quota: your stored-bytes quota has 3.0 MiB of 3.0 MiB left; this file needs 9.0 MiB."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evalJS(t, ctx, `uppy.clear()`, nil)
			addToDashboard(t, ctx, tc.name, notes(tc.size))
			click(t, ctx, `.uppy-StatusBar-actionBtn--upload`)
			r := result(t, ctx, tc.name)
			if r.Code != "QuotaExceeded" || r.Status != 403 || r.Error != tc.message {
				t.Errorf("result %+v, want 403 QuotaExceeded saying %q", r, tc.message)
			}
			var shown string
			poll(t, ctx, `!!document.querySelector(".uppy-Dashboard-Item.is-error .uppy-Dashboard-Item-errorDetails")`, 30*time.Second)
			evalJS(t, ctx, `document.querySelector(".uppy-Dashboard-Item.is-error .uppy-Dashboard-Item-errorDetails").getAttribute("aria-label")`, &shown)
			if shown != tc.message {
				t.Errorf("the Dashboard shows %q, want %q", shown, tc.message)
			}
		})
	}
}
