package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/presigned-upload/presigned-upload/uploader"
	"github.com/presigned-upload/presigned-upload/uploader/signin"
)

// signInFlags say how the command signs in to an API that signs callers in.
type signInFlags struct {
	token                    string
	login, logout, noBrowser bool
	port                     int
	issuer, clientID, scopes string
}

// usageError is a wrong use of the flags: the command exits 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func addSignInFlags(fs *flag.FlagSet) *signInFlags {
	f := &signInFlags{}
	fs.StringVar(&f.token, "token", os.Getenv("UPLOAD_TOKEN"), "access token sent as Authorization: Bearer (env UPLOAD_TOKEN, which other users cannot see in the process list)")
	fs.BoolVar(&f.login, "login", false, "sign in through the browser, or reuse the cached sign-in, and send its access token, refreshed as needed")
	fs.IntVar(&f.port, "login-port", signin.DefaultPort, "port of the redirect URI http://localhost:PORT/callback, which must be registered with the issuer (0: any free port, where the issuer accepts any)")
	fs.StringVar(&f.issuer, "issuer", os.Getenv("UPLOAD_ISSUER"), "issuer URL for -login: the stack's SignInIssuer output (env UPLOAD_ISSUER; local mode's comes from its /config.json)")
	fs.StringVar(&f.clientID, "client-id", os.Getenv("UPLOAD_CLIENT_ID"), "public client ID for -login: the stack's SignInClientId output (env UPLOAD_CLIENT_ID)")
	fs.StringVar(&f.scopes, "scopes", os.Getenv("UPLOAD_SCOPES"), "space-separated scopes for -login; with Cognito, openid and the SignInScope output (env UPLOAD_SCOPES; default openid)")
	fs.BoolVar(&f.noBrowser, "no-browser", false, "with -login, only print the sign-in URL instead of also opening a browser")
	fs.BoolVar(&f.logout, "logout", false, "forget the cached sign-in of -issuer and -client-id, and exit")
	return f
}

// config returns the sign-in settings, filling what is missing from local
// mode's /config.json when the API is on this machine.
func (f *signInFlags) config(ctx context.Context, c *uploader.Client, stateDir string) (signin.Config, error) {
	if (f.issuer == "" || f.clientID == "") && onLoopback(c.API) {
		if s, err := localSignIn(ctx, c.API); err == nil {
			f.issuer, f.clientID, f.scopes = cmp.Or(f.issuer, s.Issuer), cmp.Or(f.clientID, s.ClientID), cmp.Or(f.scopes, s.Scopes)
		}
	}
	if f.issuer == "" || f.clientID == "" {
		return signin.Config{}, usageError("signing in needs -issuer and -client-id (the stack's SignInIssuer and SignInClientId outputs)")
	}
	return signin.Config{Issuer: f.issuer, ClientID: f.clientID, Scopes: strings.Fields(f.scopes), Port: f.port, CacheDir: stateDir}, nil
}

// tokenSource returns what the client sends as its bearer token: -token,
// or with -login a cached or new sign-in; nil with neither.
func (f *signInFlags) tokenSource(ctx context.Context, c *uploader.Client, stateDir string, stderr io.Writer) (uploader.TokenSource, error) {
	switch {
	case f.token != "" && f.login:
		return nil, usageError("-token and -login are exclusive")
	case f.token != "":
		return uploader.StaticToken(f.token), nil
	case !f.login:
		return nil, nil
	}
	cfg, err := f.config(ctx, c, stateDir)
	if err != nil {
		return nil, err
	}
	if s, err := signin.Resume(ctx, cfg); err == nil {
		fmt.Fprintf(stderr, "Signed in as %s (cached).\n", s.User())
		return s, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	s, err := signin.Login(ctx, cfg, func(signInURL string) {
		back := "the redirect URI"
		if u, err := url.Parse(signInURL); err == nil {
			back = u.Query().Get("redirect_uri")
		}
		fmt.Fprintf(stderr, "To sign in, open this URL in a browser:\n\n  %s\n\nWaiting for the browser to come back to %s …\n", signInURL, back)
		if !f.noBrowser {
			openBrowser(signInURL)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	fmt.Fprintf(stderr, "Signed in as %s.\n", s.User())
	return s, nil
}

// localSignInSettings is the sign-in local mode's /config.json names for
// an environment that signs callers in.
type localSignInSettings struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"clientId"`
	Scopes   string `json:"scopes"`
}

func localSignIn(ctx context.Context, apiURL string) (*localSignInSettings, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(apiURL, "/")+"/config.json", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var s struct {
		SignIn *localSignInSettings `json:"signIn"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s) != nil || s.SignIn == nil {
		return nil, errors.New("no sign-in in /config.json")
	}
	return s.SignIn, nil
}

// onLoopback reports whether apiURL names this machine, where local mode
// runs.
func onLoopback(apiURL string) bool {
	u, err := url.Parse(apiURL)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Hostname(), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(u.Hostname())
	return err == nil && ip.Unmap().IsLoopback()
}

// openBrowser starts the system's browser on u without waiting for it.
// Having none is no error: the URL is printed.
func openBrowser(u string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}

// apply signs in as the flags say and sets c.Token, or with -logout
// forgets the cached sign-in. done means the command ends with code.
func (f *signInFlags) apply(ctx context.Context, c *uploader.Client, stderr io.Writer) (code int, done bool) {
	stateDir := cmp.Or(c.StateDir, uploader.DefaultStateDir())
	if f.logout {
		cfg, err := f.config(ctx, c, stateDir)
		if err == nil {
			err = signin.Forget(cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "upload: -logout: %v\n", err)
			return exitCode(err), true
		}
		fmt.Fprintln(stderr, "Signed out: the cached sign-in is gone.")
		return 0, true
	}
	ts, err := f.tokenSource(ctx, c, stateDir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "upload: %v\n", err)
		return exitCode(err), true
	}
	c.Token = ts
	return 0, false
}

func exitCode(err error) int {
	var usage usageError
	if errors.As(err, &usage) {
		return 2
	}
	return 1
}
