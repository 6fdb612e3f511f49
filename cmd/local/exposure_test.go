package main

import (
	"net"
	"strings"
	"testing"
)

// Local mode says, once at start, when its API listens beyond this machine,
// and what /config.json then hands to anyone who can reach it.
func TestExposureWarning(t *testing.T) {
	at := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 8080} }
	for _, tc := range []struct {
		name     string
		bound    net.Addr
		handsOut []string
		want     []string // in the warning; none means no warning
	}{
		{"loopback", at("127.0.0.1"), []string{"the API key"}, nil},
		{"IPv6 loopback", at("::1"), []string{"the API key", "the sign-in client"}, nil},
		{"every address, with an API key", at("0.0.0.0"), []string{"the API key"},
			[]string{"0.0.0.0:8080", "/config.json hands the API key to anyone who can reach it", "-addr 127.0.0.1:"}},
		{"a LAN address, with a key and sign-in", at("192.168.1.5"), []string{"the API key", "the sign-in client"},
			[]string{"192.168.1.5:8080", "/config.json hands the API key and the sign-in client to anyone who can reach it"}},
		{"every IPv6 address, nothing handed out", at("::"), nil,
			[]string{"[::]:8080", "anyone who can reach it can ask for upload URLs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := exposureWarning(tc.bound, tc.handsOut)
			if len(tc.want) == 0 {
				if got != "" {
					t.Errorf("warning %q, want none", got)
				}
				return
			}
			if strings.Contains(got, "\n") {
				t.Errorf("warning %q, want one line", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("warning %q lacks %q", got, w)
				}
			}
			if len(tc.handsOut) == 0 && strings.Contains(got, "config.json") {
				t.Errorf("warning %q names config.json, which hands out nothing here", got)
			}
		})
	}
}
