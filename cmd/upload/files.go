package main

import (
	"context"
	"fmt"
	"io"

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
