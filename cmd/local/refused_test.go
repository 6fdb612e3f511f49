package main

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

// TestExpectRefusedTakesACutConnection refuses large PUTs the way S3 may:
// after the headers, with or without an answer, the connection is reset
// without reading the body. Whichever the client sees, the status or the
// cut, expectRefused takes it as the refusal.
func TestExpectRefusedTakesACutConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			answer := i%2 == 0
			go func() {
				r := bufio.NewReader(c)
				for {
					if l, err := r.ReadString('\n'); err != nil || l == "\r\n" {
						break
					}
				}
				if answer {
					_, _ = c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\nConnection: close\r\n\r\nAccessDenied\n"))
				}
				_ = c.(*net.TCPConn).SetLinger(0) // close with a reset
				c.Close()
			}()
		}
	}()
	for range 20 {
		resp, err := http.DefaultClient.Do(putRequest(t, "http://"+ln.Addr().String()+"/bucket/key", nil, make([]byte, 8<<20)))
		if msg := expectRefused(t, resp, err, 403); msg != "" && msg != "AccessDenied\n" {
			t.Errorf("answer = %q", msg)
		}
	}
}
