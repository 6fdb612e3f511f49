package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// runtimeAPI is a minimal Lambda Runtime API: it hands every process one
// event and notes when the answer arrives.
type runtimeAPI struct {
	srv   *httptest.Server
	event []byte

	mu       sync.Mutex
	answered chan answer
}

type answer struct {
	at   time.Time
	body string
	err  bool
}

func newRuntimeAPI(event []byte) *runtimeAPI {
	r := &runtimeAPI{event: event}
	mux := http.NewServeMux()
	served := sync.Map{}
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		// One event per connection-owning process; later polls wait until
		// the process is stopped.
		if _, again := served.LoadOrStore(r.current(), true); again {
			<-req.Context().Done()
			return
		}
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", "bench-request")
		h.Set("Lambda-Runtime-Deadline-Ms", "4102444800000")
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
		_, _ = w.Write(r.event)
	})
	reply := func(isErr bool) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			var b strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := req.Body.Read(buf)
				b.Write(buf[:n])
				if err != nil {
					break
				}
			}
			w.WriteHeader(http.StatusAccepted)
			r.current() <- answer{at: time.Now(), body: b.String(), err: isErr}
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", reply(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", reply(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", reply(true))
	r.srv = httptest.NewServer(mux)
	return r
}

// arm prepares for the next process and returns where its answer arrives.
func (r *runtimeAPI) arm() chan answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answered = make(chan answer, 1)
	return r.answered
}

func (r *runtimeAPI) current() chan answer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.answered
}

func (r *runtimeAPI) addr() string { return strings.TrimPrefix(r.srv.URL, "http://") }
