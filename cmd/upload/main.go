// Command upload sends files through the upload API: a single pre-signed PUT
// below a threshold, a parallel, resumable multipart upload above it.
//
//	go run ./cmd/upload -api URL [-api-key KEY] [-token TOKEN | -login] FILE...
//	go run ./cmd/upload -api URL -login -list
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stdout)))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	fs := flag.NewFlagSet("upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: upload -api URL [flags] FILE...\n       upload -api URL [-token TOKEN | -login] -list\n       upload -api URL [-token TOKEN | -login] -quota")
		fs.PrintDefaults()
	}
	var c uploader.Client
	fs.StringVar(&c.API, "api", os.Getenv("UPLOAD_API"), "API base URL, such as https://ID.execute-api.REGION.amazonaws.com/prod (env UPLOAD_API)")
	fs.StringVar(&c.APIKey, "api-key", os.Getenv("UPLOAD_API_KEY"), "API key sent as X-Api-Key (env UPLOAD_API_KEY)")
	fs.BoolVar(&c.AllowHTTP, "insecure-http", false, "allow an http:// API URL to a host other than loopback, which sends the API key in clear text")
	contentType := fs.String("content-type", "", "media type of the files (default: guessed from each file name)")
	fs.Int64Var(&c.Threshold, "multipart-threshold", uploader.DefaultThreshold, "files of this many bytes or more go up in parts")
	fs.IntVar(&c.Concurrency, "parallel", uploader.DefaultConcurrency, "parts sent at once")
	fs.IntVar(&c.Attempts, "attempts", uploader.DefaultAttempts, "tries per request before giving up")
	fs.BoolVar(&c.KeepPartial, "keep-partial", false, "on failure keep the multipart upload so that running again resumes it")
	fs.StringVar(&c.StateDir, "state-dir", "", "where resume state and the cached sign-in are kept (default: the user cache directory)")
	quiet := fs.Bool("q", false, "no progress bar")
	signIn := addSignInFlags(fs)
	list := fs.Bool("list", false, "list the signed-in caller's files instead of uploading")
	showQuota := fs.Bool("quota", false, "show the caller's quota limits and usage instead of uploading")
	wait := fs.Bool("wait", false, "after each upload, wait for the verifier's outcome, print it, and exit 1 if a file is rejected")
	waitTimeout := fs.Duration("wait-timeout", 2*time.Minute, "how long -wait waits for each outcome")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if c.API == "" || fs.NArg() == 0 && !*list && !*showQuota && !signIn.logout {
		fs.Usage()
		return 2
	}
	if err := c.CheckAPI(); err != nil {
		if errors.Is(err, uploader.ErrPlainHTTP) {
			fmt.Fprintf(stderr, "upload: -api %s: %v; use https, or pass -insecure-http to allow it\n", c.API, uploader.ErrPlainHTTP)
		} else {
			fmt.Fprintf(stderr, "upload: -api: %v\n", err)
		}
		return 2
	}
	if code, done := signIn.apply(ctx, &c, stderr); done {
		return code
	}
	if *list {
		return listFiles(ctx, &c, stdout, stderr)
	}
	if *showQuota {
		return printQuota(ctx, &c, stdout, stderr)
	}
	bar := newProgressBar(stderr, tty && !*quiet)
	c.Progress = bar.update
	failed := 0
	for _, path := range fs.Args() {
		res, err := c.UploadFile(ctx, path, *contentType)
		bar.finish()
		if err != nil {
			failed++
			var ae *uploader.APIError
			if errors.As(err, &ae) && ae.Quota != nil {
				fmt.Fprintf(stderr, "upload: %s: %s\n", path, ae.Quota.Message())
				continue
			}
			fmt.Fprintf(stderr, "upload: %s: %v\n", path, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		how := "single PUT"
		if res.Multipart {
			how = fmt.Sprintf("%d parts sent", res.PartsSent)
			if res.PartsSkipped > 0 {
				how += fmt.Sprintf(", %d resumed", res.PartsSkipped)
			}
		}
		if *wait {
			wctx, cancel := context.WithTimeout(ctx, *waitTimeout)
			st, err := c.WaitChecked(wctx, res.FileKey, time.Second)
			cancel()
			switch {
			case err != nil:
				failed++
				fmt.Fprintf(stderr, "upload: %s: no outcome: %v\n", path, err)
			case st.Status == api.StatusRejected:
				failed++
				how += "\trejected: " + st.Reason
			default:
				how += "\t" + st.Status
			}
		}
		fmt.Fprintf(stdout, "%s\t%s\t%d bytes\t%s\n", path, res.FileKey, res.Size, how)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
