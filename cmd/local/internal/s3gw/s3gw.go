// Package s3gw runs a real S3-compatible server in-process for local mode and
// the integration tests: the Versity S3 Gateway over a POSIX directory. It
// verifies SigV4 pre-signed URLs the way S3 does, so an upload that passes
// here exercises the same signature checks.
package s3gw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"github.com/versity/versitygw/s3api"

	"github.com/presigned-upload/presigned-upload/api"
)

// Region is the region the server signs and verifies for.
const Region = "us-east-1"

// Server is a running gateway.
type Server struct {
	// Endpoint is the server's base URL, such as http://127.0.0.1:9000.
	Endpoint string
	// Root is the directory that holds the buckets: an object is the file
	// Root/<bucket>/<key>.
	Root string
	// AccessKey and SecretKey are the server's only account, new for each
	// start: another program on this machine cannot guess them.
	AccessKey, SecretKey string
	// EventsURL is where the server posts its bucket event notifications,
	// with [WithEvents]; "" without.
	EventsURL string

	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
	guard    readGuard
	events   *notifier
	// conns carries every Client's requests, so that Stop can close the
	// idle ones: the server waits for a connection that was opened and
	// never used until its shutdown times out.
	conns *http.Transport
}

// Option changes how [Start] runs the server.
type Option func(*Server)

// Start serves S3 on addr with its data under dataDir, and returns once the
// server accepts connections. Only one server can run per process.
func Start(addr, dataDir string, options ...Option) (*Server, error) {
	root := filepath.Join(dataDir, "s3")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	// Object metadata (Content-Type, checksums) lives in extended attributes
	// where the file system has them, in a side directory otherwise.
	var ms meta.MetadataStorer = meta.XattrMeta{}
	opts := posix.PosixOpts{}
	if err := (meta.XattrMeta{}).Test(root); err != nil {
		side := filepath.Join(dataDir, "meta")
		if err := os.MkdirAll(side, 0o755); err != nil {
			return nil, err
		}
		sc, err := meta.NewSideCar(side)
		if err != nil {
			return nil, fmt.Errorf("metadata directory: %w", err)
		}
		ms, opts.SideCarDir = sc, side
	}
	be, err := posix.New(root, ms, opts)
	if err != nil {
		return nil, fmt.Errorf("posix backend: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("s3 address: %w", err)
	}
	// Learn the port (addr may say :0), then hand it to the gateway.
	addr = ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Endpoint: "http://" + addr, Root: root, AccessKey: "local-" + randomHex(8), SecretKey: randomHex(20),
		cancel: cancel, done: make(chan error, 1), conns: http.DefaultTransport.(*http.Transport).Clone()}
	s.conns.MaxIdleConnsPerHost = 64
	cfg := &embedgw.Config{
		RootUserAccess:    s.AccessKey,
		RootUserSecret:    s.SecretKey,
		Region:            Region,
		Ports:             []string{addr},
		MaxConnections:    512,
		MaxRequests:       256,
		MultipartMaxParts: 10000,
		Quiet:             true,
		KeepAlive:         true,
		S3Options:         []s3api.Option{s3api.WithMiddleware("/", s.guard.middleware(be))},
	}
	for _, o := range options {
		o(s)
	}
	if s.events != nil {
		// Listening before the server starts: it sends a test event first.
		if err := s.events.listen(dataDir, cfg); err != nil {
			cancel()
			return nil, err
		}
		s.EventsURL = cfg.EventWebhookURL
	}
	go func() {
		s.done <- embedgw.RunVersityGW(ctx, be, cfg)
		be.Shutdown()
	}()
	if err := waitForPort(addr, s.done); err != nil {
		cancel()
		s.events.close()
		return nil, err
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}

func waitForPort(addr string, done chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("s3 gateway stopped at start: %w", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("s3 gateway did not listen on %s within 10s", addr)
}

// Stop shuts the server down and waits for it; the data stays on disk.
// Later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.conns.CloseIdleConnections()
		s.cancel()
		select {
		case err := <-s.done:
			if !errors.Is(err, context.Canceled) {
				s.stopErr = err
			}
		case <-time.After(10 * time.Second):
			s.stopErr = errors.New("s3 gateway did not stop within 10s")
		}
		s.events.close()
	})
	return s.stopErr
}

// Client returns an S3 client for the server, path-style as a local
// endpoint needs.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:   &http.Client{Transport: s.conns},
	})
}

// EnsureBucket creates the bucket if it does not exist yet and gives it the
// CORS rule the construct deploys for these settings.
func EnsureBucket(ctx context.Context, c *s3.Client, bucket string, settings api.UploadSettings) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket: aws.String(bucket),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedMethods: api.BucketCORSMethodsFor(settings),
			AllowedOrigins: settings.WithDefaults().AllowedOrigins,
			AllowedHeaders: api.UploadHeaders,
			ExposeHeaders:  api.BucketCORSExposeHeaders,
			MaxAgeSeconds:  aws.Int32(api.BucketCORSMaxAgeSeconds),
		}}},
	})
	if err != nil {
		return fmt.Errorf("put cors on %s: %w", bucket, err)
	}
	return nil
}
