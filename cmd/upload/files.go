package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/presigned-upload/presigned-upload/api"
	"github.com/presigned-upload/presigned-upload/uploader"
)

// listFiles prints the signed-in caller's files, one a line:
// fileKey<TAB>size<TAB>last modified.
func listFiles(ctx context.Context, c *uploader.Client, stdout, stderr io.Writer) int {
	files, err := c.Files(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "upload: -list: %v\n", err)
		return 1
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "%s\t%d bytes\t%s\n", f.FileKey, f.Size, f.LastModified)
	}
	return 0
}

// printQuota prints the caller's quota: each limit with what is used of
// it, and when the day's counts start afresh.
func printQuota(ctx context.Context, c *uploader.Client, stdout, stderr io.Writer) int {
	q, err := c.Quota(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "upload: -quota: %v\n", err)
		return 1
	}
	of := func(used, limit int64, format func(int64) string) string {
		if limit == 0 {
			return format(used) + " (no limit)"
		}
		return format(used) + " of " + format(limit)
	}
	count := func(n int64) string { return fmt.Sprint(n) }
	tier := ""
	if q.Tier != "" {
		tier = " (tier " + q.Tier + ")"
	}
	resets := ""
	if t, err := time.Parse(time.RFC3339, q.ResetsAt); err == nil {
		resets = ", starts afresh in " + time.Until(t).Round(time.Minute).String()
	}
	u, l := q.Usage, q.Limits
	fmt.Fprintf(stdout, "stored\t%s%s, %s of it reserved by uploads under way\n", of(u.Bytes, int64(l.Bytes), api.FormatBytes), tier, api.FormatBytes(u.ReservedBytes))
	fmt.Fprintf(stdout, "today\t%s, %s uploads (UTC day %s%s)\n", of(u.BytesToday, int64(l.BytesPerDay), api.FormatBytes),
		of(u.FilesToday, int64(l.FilesPerDay), count), q.Day, resets)
	fmt.Fprintf(stdout, "sessions\t%s multipart uploads in progress\n", of(u.Sessions, int64(l.Sessions), count))
	return 0
}
