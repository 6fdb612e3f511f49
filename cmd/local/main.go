// Command local runs the whole upload flow on one machine: a real
// S3-compatible server (the Versity S3 Gateway) with the bucket and CORS
// rule the construct deploys, and the upload API served by the same handler
// code the Lambda runs, with the settings of a cdk.json environment.
//
//	go run ./cmd/local [-env dev] [-addr 127.0.0.1:8080] [-s3-addr 127.0.0.1:9000] [-data DIR] [-events-url URL]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/apigw"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/bucketevents"
	"github.com/presigned-upload/presigned-upload/cmd/local/internal/s3gw"
	"github.com/presigned-upload/presigned-upload/internal/environments"
	"github.com/presigned-upload/presigned-upload/lambda/uploadapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "local:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	addr, s3Addr, oidcAddr, data, env, cdkJSON, apiKey, web string
	eventsURL                                               string
	verbose                                                 bool
	multipartThreshold                                      int64
	tokenTTL                                                time.Duration
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "where the API listens")
	fs.StringVar(&o.s3Addr, "s3-addr", "127.0.0.1:9000", "where the S3 server listens")
	fs.StringVar(&o.oidcAddr, "oidc-addr", "127.0.0.1:9100", "where the sign-in provider listens, for an environment that signs callers in (a fixed port keeps the issuer, and so each user's files, the same across runs)")
	fs.StringVar(&o.data, "data", "", "data directory (default: .local-data next to cdk.json)")
	fs.StringVar(&o.env, "env", "dev", "which cdk.json environment's settings to apply")
	fs.StringVar(&o.cdkJSON, "cdk-json", "", "path of cdk.json (default: found from the working directory upwards)")
	fs.StringVar(&o.apiKey, "api-key", "", "API key to require when the environment requires one (default: a new random key)")
	fs.StringVar(&o.web, "web", "", "folder of the upload page served at / (default: web next to cdk.json)")
	fs.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "lifetime of the access tokens the sign-in provider issues; a short one shows clients refreshing theirs")
	fs.BoolVar(&o.verbose, "v", false, "log every request")
	fs.StringVar(&o.eventsURL, "events-url", "", "also POST each published upload event there, as JSON")
	fs.Int64Var(&o.multipartThreshold, "multipart-threshold", 64<<20, "size from which the web page uploads in parts")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, checkEventsURL(o.eventsURL)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.cdkJSON == "" {
		if o.cdkJSON, err = findUp("cdk.json"); err != nil {
			return err
		}
	}
	// The S3 gateway changes the working directory: make every path absolute first.
	for _, p := range []*string{&o.cdkJSON, &o.data, &o.web} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	root := filepath.Dir(o.cdkJSON)
	envs, err := environments.Load(o.cdkJSON)
	if err != nil {
		return err
	}
	env, ok := envs[o.env]
	if !ok {
		return fmt.Errorf("no environment %q in %s (have %s)", o.env, o.cdkJSON, strings.Join(environments.Names(envs), ", "))
	}
	if o.data == "" {
		o.data = filepath.Join(root, ".local-data")
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Bind the API first: a taken port fails before anything starts.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("api address: %w", err)
	}
	defer ln.Close()

	notifications := bucketevents.New(log, bucketevents.Options{})
	gw, err := s3gw.Start(o.s3Addr, o.data, s3gw.WithEvents(notifications))
	if err != nil {
		return err
	}
	defer gw.Stop()
	defer notifications.Close() // first: verifications under way finish against the server

	bucket := "presigned-upload-" + o.env
	client := gw.Client()
	settings := localSettings(env, bucket, stdout)
	cfg := settings.UploadSettings
	if err := s3gw.EnsureBucket(ctx, client, bucket, cfg); err != nil {
		return err
	}
	if err := verifyUploads(notifications, gw, client, settings, bucketevents.NewPublisher(stdout, o.eventsURL, s3gw.Region, log), log); err != nil {
		return err
	}
	h, err := uploadapi.New(cfg, s3.NewPresignClient(client), client, uploadapi.WithLogger(log))
	if err != nil {
		return err
	}
	apiKey := ""
	if env.ApiKeyRequired {
		if apiKey = o.apiKey; apiKey == "" {
			apiKey = newKey()
		}
	}
	apiURL := "http://" + ln.Addr().String()
	var signIn *signInSetup
	if env.SignsIn() {
		if signIn, err = startSignIn(ctx, o.oidcAddr, apiURL, env.Cognito != nil, o.tokenTTL, log); err != nil {
			return err
		}
		defer signIn.provider.Close()
	}
	var static http.Handler
	if o.web == "" {
		o.web = filepath.Join(root, "web")
	}
	if isDir(o.web) {
		static = webHandler(o.web, apiKey, o.multipartThreshold, int64(cfg.PartSize), gw.Endpoint, signIn)
	}
	stageCfg := apigw.Config{
		Invoke:   h.Handle,
		Settings: cfg,
		APIKey:   apiKey,
		Static:   static,
		Log:      log,
		Hosts:    listenHosts(o.addr, ln.Addr()),
	}
	if signIn != nil {
		stageCfg.Authorizer, stageCfg.Claims = signIn.authorizer.Authorize, signIn.claims
	}
	stage, err := apigw.New(stageCfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: stage, ReadHeaderTimeout: 10 * time.Second}

	var handsOut []string
	if static != nil && apiKey != "" {
		handsOut = append(handsOut, "the API key")
	}
	if static != nil && signIn != nil {
		handsOut = append(handsOut, "the sign-in client")
	}
	if w := exposureWarning(ln.Addr(), handsOut); w != "" {
		fmt.Fprintln(stderr, w)
	}

	fmt.Fprintf(stdout, "Local mode, environment %q (settings from %s)\n", o.env, o.cdkJSON)
	fmt.Fprintf(stdout, "  API:      %s%s  (POST or GET)\n", apiURL, api.UploadURL.Resource)
	if static != nil {
		fmt.Fprintf(stdout, "  Web page: %s/\n", apiURL)
	}
	fmt.Fprintf(stdout, "  S3:       %s  bucket %s, access key %s, secret %s\n", gw.Endpoint, bucket, gw.AccessKey, gw.SecretKey)
	fmt.Fprintf(stdout, "  Data:     %s  (objects under %s)\n", o.data, filepath.Join(gw.Root, bucket))
	fmt.Fprintf(stdout, "  Events:   each upload's outcome, one line %q+JSON%s\n", bucketevents.LinePrefix, eventsTo(o.eventsURL))
	keyHeader := ""
	if apiKey != "" {
		fmt.Fprintf(stdout, "  API key:  %s  (send it as X-Api-Key)\n", apiKey)
		keyHeader = " -H 'X-Api-Key: " + apiKey + "'"
	}
	if signIn != nil {
		fmt.Fprintf(stdout, "  Sign-in:  %s  client %s (any user name, no password)\n", signIn.provider.Issuer, signIn.provider.ClientID)
		fmt.Fprintf(stdout, "  Token:    %s  (user %s, valid %s)\n", signIn.token, defaultUser, o.tokenTTL)
		keyHeader += " -H 'Authorization: Bearer " + signIn.token + "'"
	}
	fmt.Fprintf(stdout, "Try:\n  curl -s -X POST %s%s -H 'Content-Type: application/json'%s -d '{\"fileName\":\"hello.txt\",\"contentType\":\"text/plain\"%s}'\n",
		apiURL, api.UploadURL.Resource, keyHeader, sizeField(cfg.SizeRequired()))
	fmt.Fprintln(stdout, "Ctrl-C stops; the data stays.")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	_ = notifications.Close()
	if err := gw.Stop(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// localSettings are the functions' settings the environment deploys, for
// the local bucket, as far as one machine can apply them: the events go to
// local mode's own publisher instead of a bus; GuardDuty's malware scan has
// no local stand-in, so uploads are verified without it; and URLs name the
// local S3 server, never an accelerate endpoint. Each is said once, at
// start.
func localSettings(env environments.Environment, bucket string, stdout io.Writer) api.VerifierSettings {
	s := env.VerifierSettingsFor(bucket)
	if s.MalwareScanEnabled {
		fmt.Fprintln(stdout, "Note: malwareScanEnabled has no local stand-in: uploads are verified without GuardDuty's scan.")
		s.MalwareScanEnabled = false
	}
	if s.TransferAcceleration {
		fmt.Fprintln(stdout, "Note: transferAcceleration is ignored locally: URLs name the local S3 server.")
		s.TransferAcceleration = false
	}
	return s
}

func sizeField(required bool) string {
	if required {
		return `,"size":6`
	}
	return ""
}

func newKey() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// listenHosts are the names requests may be addressed to besides loopback
// ones: the host of -addr as given and the address it bound, so that
// -addr 192.168.1.5:8080 or -addr myhost.lan:8080 is reachable by that name.
func listenHosts(configured string, bound net.Addr) []string {
	var hosts []string
	for _, a := range []string{configured, bound.String()} {
		if h, _, err := net.SplitHostPort(a); err == nil && h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// exposureWarning is the line local mode prints at start when its API
// listens beyond this machine (bound is not a loopback address): anyone who
// can reach it can ask for upload URLs, and /config.json hands them what
// handsOut names, as it hands the page its settings. "" on loopback.
func exposureWarning(bound net.Addr, handsOut []string) string {
	if a, ok := bound.(*net.TCPAddr); ok && a.IP.IsLoopback() {
		return ""
	}
	_, port, _ := net.SplitHostPort(bound.String())
	what := "anyone who can reach it can ask for upload URLs"
	if len(handsOut) > 0 {
		what = "/config.json hands " + strings.Join(handsOut, " and ") + " to anyone who can reach it"
	}
	return fmt.Sprintf("Warning: the API listens on %s, beyond this machine: %s; use -addr 127.0.0.1:%s unless everyone on that network may upload.",
		bound, what, port)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// findUp looks for name in the working directory and its parents.
func findUp(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s in the working directory or above it; run from the repository or pass -cdk-json", name)
		}
		dir = parent
	}
}

// webHandler serves the upload page, and config.json that fills in its
// settings for this local API: partSize is the environment's, which an
// Uppy app needs before an upload starts. s3Endpoint is the origin of the
// S3 server the upload URLs point at.
func webHandler(dir, apiKey string, threshold, partSize int64, s3Endpoint string, signIn *signInSetup) http.Handler {
	mux := http.NewServeMux()
	// The page's meta tag allows connections to any https: or loopback
	// origin; this header, which applies on top of it, narrows them to this
	// API (the page's own origin, which config.json points it at) and this
	// S3 server, and forbids framing, which a meta tag cannot.
	policy := "connect-src 'self' " + s3Endpoint
	if signIn != nil {
		policy += " " + signIn.origin // the page exchanges and refreshes tokens there
	}
	policy += "; frame-ancestors 'none'"
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/config.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		settings := map[string]any{
			"apiUrl":             "http://" + r.Host,
			"apiKey":             apiKey,
			"multipartThreshold": threshold,
			"partSize":           partSize,
		}
		if signIn != nil {
			settings["signIn"] = map[string]any{
				"issuer":   signIn.provider.Issuer,
				"clientId": signIn.provider.ClientID,
				"scopes":   strings.Join(signIn.provider.Scopes, " "),
			}
		}
		_ = json.NewEncoder(w).Encode(settings)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", policy)
		mux.ServeHTTP(w, r)
	})
}
