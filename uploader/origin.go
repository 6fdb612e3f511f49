package uploader

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrPlainHTTP is returned for an http:// API URL whose host is not a
// loopback address, unless Client.AllowHTTP is set.
var ErrPlainHTTP = errors.New("plain http to a host other than loopback would send the API key or token and the upload URLs in clear text")

// ErrRedirectElsewhere is returned when the API redirects to another
// origin: the request carries the API key or token, which go to the API
// only.
var ErrRedirectElsewhere = errors.New("the API redirected to another origin; not following it with the API key or token")

// CheckAPI refuses an API URL the client must not send its key or token
// to: one without a host, or plain http to a host other than loopback
// (ErrPlainHTTP) unless AllowHTTP is set. UploadFile checks it first; call
// it to fail before signing in.
func (c *Client) CheckAPI() error {
	u, err := url.Parse(c.API)
	if err != nil {
		return fmt.Errorf("API URL: %w", err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("API URL %q has no host", c.API)
	case u.Scheme == "https":
		return nil
	case u.Scheme != "http":
		return fmt.Errorf("API URL %q: scheme must be https (or http on loopback)", c.API)
	case c.AllowHTTP || isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("API URL %s: %w; use https, or set AllowHTTP", c.API, ErrPlainHTTP)
}

// isLoopback reports whether host names this machine: localhost,
// 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// apiOnly returns a copy of hc that follows redirects only within the
// origin of apiURL. net/http copies every custom header of the first
// request, X-Api-Key included, to wherever a redirect leads, and
// Authorization to the same host on another port or scheme (plain http
// too) and to its subdomains.
func apiOnly(hc *http.Client, apiURL string) *http.Client {
	home, _ := url.Parse(apiURL)
	c := *hc
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if home == nil || !sameOrigin(req.URL, home) {
			return ErrRedirectElsewhere // net/http names the Location
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
