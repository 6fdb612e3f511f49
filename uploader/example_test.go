package uploader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// A Client asks the API for a URL and sends the file straight to it. Here
// one small server plays both the API and S3; point API at a deployed stage
// or at local mode (go run ./cmd/local) instead.
func ExampleClient_UploadFile() {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == api.UploadURL.Method && r.URL.Path == api.UploadURL.Resource:
			var in api.UploadURLRequest
			_ = json.NewDecoder(r.Body).Decode(&in)
			_ = json.NewEncoder(w).Encode(api.UploadURLResponse{
				UploadURL: srv.URL + "/bucket/uploads/abc-" + in.FileName, FileKey: "uploads/abc-" + in.FileName,
				Method: "PUT", Headers: map[string]string{"Content-Type": in.ContentType},
			})
		case r.Method == http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			fmt.Printf("S3 received %d bytes of %s\n", len(b), r.Header.Get("Content-Type"))
			w.Header().Set("ETag", `"5d41402abc4b2a76b9719d911017c592"`)
		}
	}))
	defer srv.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hello.txt")
	_ = os.WriteFile(path, []byte("hello"), 0o644)

	c := &uploader.Client{API: srv.URL, StateDir: dir}
	res, err := c.UploadFile(context.Background(), path, "")
	if err != nil {
		fmt.Println("upload failed:", err)
		return
	}
	fmt.Println("stored as", res.FileKey, "in", res.APICalls, "API call")
	// Output:
	// S3 received 5 bytes of text/plain; charset=utf-8
	// stored as uploads/abc-hello.txt in 1 API call
}
