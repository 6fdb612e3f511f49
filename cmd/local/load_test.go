package main

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
)

// TestLoad sends 5,000 URL requests from 20 concurrent clients over
// loopback and logs the latency percentiles and throughput. It asserts no
// errors and no timings: run it with -v to read the numbers.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const clients, total = 20, 5000
	f := newFlow(t, api.UploadSettings{}, "")
	body := `{"fileName":"load.bin","contentType":"application/octet-stream","size":1048576}`
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr} // no per-request deadline: a busy machine is slow, not broken

	var next, failures atomic.Int64
	latencies := make([]time.Duration, total)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				t0 := time.Now()
				resp, err := client.Post(f.api.URL+api.UploadURL.Resource, "application/json", strings.NewReader(body))
				if err == nil {
					_, _ = resp.Body.Read(make([]byte, 4096))
					resp.Body.Close()
				}
				latencies[i] = time.Since(t0)
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failures.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed", n, total)
	}
	slices.Sort(latencies)
	t.Logf("load: %d requests, %d clients: p50 %v, p99 %v, %.0f requests/s",
		total, clients, latencies[total/2].Round(time.Microsecond), latencies[total*99/100].Round(time.Microsecond), float64(total)/elapsed.Seconds())
}
