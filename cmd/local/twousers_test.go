package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/presigned-upload/presigned-upload/api"
)

// Two users through local mode, in each kind of signed-in environment:
// neither reaches the other's uploads or files, whatever route they try.
func TestTwoUsers(t *testing.T) {
	for _, env := range []string{"oidc", "cognito"} {
		t.Run(env, func(t *testing.T) {
			p := startSignedIn(t, env)
			alice, bob := signInAs(t, p, "alice"), signInAs(t, p, "bob")

			store := func(token, user string, data []byte) string {
				t.Helper()
				var got api.UploadURLResponse
				size := int64(len(data))
				signedInCall(t, p, token, api.UploadURL, nil, api.UploadURLRequest{FileName: user + ".txt", ContentType: "text/plain", Size: &size}).
					ok(t, user+"'s upload URL", &got)
				if code, msg := put(t, got.UploadURL, got.Headers, data); code != 200 {
					t.Fatalf("PUT = %d %s", code, msg)
				}
				if want := "uploads/" + api.CallerID(p.Issuer, user) + "/"; !strings.HasPrefix(got.FileKey, want) {
					t.Fatalf("%s's key %s is not under %s", user, got.FileKey, want)
				}
				return got.FileKey
			}
			// A stored file each, and alice's multipart upload with one of
			// its two parts sent.
			small := []byte("alice's notes\n")
			file := store(alice, "alice", small)
			bobs := store(bob, "bob", []byte("bob's notes\n"))
			big := make([]byte, 6<<20)
			_, _ = rand.Read(big)
			var started api.MultipartStartResponse
			signedInCall(t, p, alice, api.StartMultipart, nil, api.MultipartStartRequest{FileName: "big.bin", ContentType: "application/octet-stream", Size: int64(len(big))}).
				ok(t, "alice's multipart start", &started)
			if started.PartCount != 2 {
				t.Fatalf("plan %+v, want 2 parts", started)
			}
			id, key := started.UploadID, started.FileKey
			sendPart := func(n int) api.CompletedPart {
				t.Helper()
				var signed api.SignPartsResponse
				signedInCall(t, p, alice, api.SignParts, []string{id}, api.SignPartsRequest{FileKey: key, Size: int64(len(big)), PartNumbers: []int{n}}).
					ok(t, "alice signs a part", &signed)
				part := big[int64(n-1)*started.PartSize : min(int64(n)*started.PartSize, int64(len(big)))]
				resp, err := http.DefaultClient.Do(putRequest(t, signed.Parts[0].URL, signed.Parts[0].Headers, part))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("PUT part %d = %d", n, resp.StatusCode)
				}
				return api.CompletedPart{PartNumber: n, ETag: resp.Header.Get("ETag")}
			}
			part1 := sendPart(1)

			for _, tc := range []struct {
				name   string
				route  api.Route
				params []string
				in     any
			}{
				{"sign parts", api.SignParts, []string{id}, api.SignPartsRequest{FileKey: key, Size: int64(len(big)), PartNumbers: []int{2}}},
				{"list parts", api.ListParts, []string{id}, api.UploadRef{FileKey: key}},
				{"complete", api.CompleteMultipart, []string{id}, api.CompleteRequest{FileKey: key, Parts: []api.CompletedPart{part1}}},
				{"abort", api.AbortMultipart, []string{id}, api.UploadRef{FileKey: key}},
				{"download", api.DownloadURL, nil, api.DownloadURLRequest{FileKey: file}},
				{"delete", api.DeleteFile, nil, api.UploadRef{FileKey: file}},
			} {
				t.Run("bob cannot "+tc.name+" alice's", func(t *testing.T) {
					a := signedInCall(t, p, bob, tc.route, tc.params, tc.in)
					var e api.ErrorResponse
					if a.status != http.StatusForbidden || json.Unmarshal(a.body, &e) != nil || e.Code != api.CodeForbidden {
						t.Errorf("%s = %d %s, want 403 %s", tc.route, a.status, a.body, api.CodeForbidden)
					}
					if got := a.header.Get("Access-Control-Allow-Origin"); got == "" {
						t.Error("the refusal carries no CORS headers: a page could not read it")
					}
				})
			}

			list := func(token string) []string {
				t.Helper()
				var got api.ListFilesResponse
				signedInCall(t, p, token, api.ListFiles, nil, api.ListFilesRequest{}).ok(t, "list files", &got)
				var keys []string
				for _, f := range got.Files {
					keys = append(keys, f.FileKey)
				}
				return keys
			}
			t.Run("bob's list has his file and none of alice's", func(t *testing.T) {
				if keys := list(bob); len(keys) != 1 || keys[0] != bobs {
					t.Errorf("bob's list = %q, want only %s", keys, bobs)
				}
			})
			t.Run("alice's upload survived bob and completes", func(t *testing.T) {
				var parts api.ListPartsResponse
				signedInCall(t, p, alice, api.ListParts, []string{id}, api.UploadRef{FileKey: key}).ok(t, "alice lists her parts", &parts)
				if len(parts.Parts) != 1 || parts.Parts[0].PartNumber != 1 {
					t.Fatalf("parts %+v, want part 1", parts.Parts)
				}
				part2 := sendPart(2)
				signedInCall(t, p, alice, api.CompleteMultipart, []string{id}, api.CompleteRequest{FileKey: key, Parts: []api.CompletedPart{part1, part2}}).
					ok(t, "alice completes", nil)
				if keys := list(alice); !slices.Contains(keys, file) || !slices.Contains(keys, key) || len(keys) != 2 {
					t.Errorf("alice's list = %q, want %s and %s", keys, file, key)
				}
				if keys := list(bob); len(keys) != 1 || keys[0] != bobs {
					t.Errorf("bob's list = %q, want only %s", keys, bobs)
				}
			})
			t.Run("alice downloads her file, then deletes it", func(t *testing.T) {
				var dl api.DownloadURLResponse
				signedInCall(t, p, alice, api.DownloadURL, nil, api.DownloadURLRequest{FileKey: file}).ok(t, "alice's download URL", &dl)
				resp, err := http.Get(dl.DownloadURL)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Equal(b, small) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
					t.Errorf("GET = %d, %q, Content-Disposition %q; want her bytes as an attachment", resp.StatusCode, b, resp.Header.Get("Content-Disposition"))
				}
				signedInCall(t, p, alice, api.DeleteFile, nil, api.UploadRef{FileKey: file}).ok(t, "alice deletes", nil)
				if keys := list(alice); slices.Contains(keys, file) {
					t.Errorf("alice's list still has the deleted %s", file)
				}
			})
		})
	}
}
