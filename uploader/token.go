package uploader

import (
	"context"
	"os"
	"path/filepath"
	"strings"
)

// TokenSource gives the access token a signed-in caller sends to the API
// as Authorization: Bearer. The client asks for one before each API call,
// so a source that refreshes its token keeps a long upload signed in.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a token that never changes, such as one from -token or
// UPLOAD_TOKEN. A leading "Bearer " is ignored.
type StaticToken string

// Token implements TokenSource.
func (t StaticToken) Token(context.Context) (string, error) {
	s := strings.TrimSpace(string(t))
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s, nil
}

// DefaultStateDir is where the client keeps resume state, and the command
// its cached sign-in, unless told otherwise: presigned-upload in the user's
// cache directory, or "" when there is none.
func DefaultStateDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "presigned-upload")
}
