package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"
)

// runtimeAPI is a minimal Lambda Runtime API for one process: it hands out
// one event and notes when the answer arrives.
type runtimeAPI struct {
	srv      *httptest.Server
	answered chan answer
}

type answer struct {
	at   time.Time
	body string
	err  bool
}

func newRuntimeAPI(event []byte) *runtimeAPI {
	r := &runtimeAPI{answered: make(chan answer, 1)}
	var served atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		if served.Swap(true) {
			<-req.Context().Done() // later polls wait until the process is stopped
			return
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "bench-request")
		h.Set("Lambda-Runtime-Deadline-Ms", "4102444800000")
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(event)
	})
	reply := func(isErr bool) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			at := time.Now()
			b, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
			w.WriteHeader(http.StatusAccepted)
			select {
			case r.answered <- answer{at: at, body: string(b), err: isErr}:
			default:
			}
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", reply(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", reply(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", reply(true))
	r.srv = httptest.NewServer(mux)
	return r
}

func (r *runtimeAPI) addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }
