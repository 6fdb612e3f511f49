package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/presigned-upload/presigned-upload/uploader"
)

func TestRender(t *testing.T) {
	got := render(uploader.Progress{Name: "big.iso", Sent: 512 << 20, Total: 1 << 30}, 4*time.Second)
	for _, want := range []string{"big.iso", " 50%", "512.0 MiB / 1.0 GiB", "128.0 MiB/s", "ETA 00:04"} {
		if !strings.Contains(got, want) {
			t.Errorf("render = %q, lacks %q", got, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"-api", "http://127.0.0.1:1"}, {"-nope"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut, false); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
		if !strings.Contains(errOut.String(), "usage") && !strings.Contains(errOut.String(), "flag provided but not defined") {
			t.Errorf("run(%q) printed %q, want the usage", args, errOut.String())
		}
	}
}

func TestMissingFileFails(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-api", "http://127.0.0.1:1", "/nonexistent/file.bin"}, &out, &errOut, false)
	if code != 1 || !strings.Contains(errOut.String(), "upload: /nonexistent/file.bin: open /nonexistent/file.bin: no such file or directory") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}
