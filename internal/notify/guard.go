package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Policy is what the operator allows webhook URLs to reach. The zero value is the strict one:
// https only, public addresses only.
type Policy struct {
	// AllowHTTP accepts http:// URLs (a receiver on a trusted network, tests).
	AllowHTTP bool
	// AllowPrivate accepts loopback, private, link-local and other non-public addresses.
	AllowPrivate bool
}

// ErrRefusedAddress: the URL leads to an address the policy refuses.
var ErrRefusedAddress = errors.New("refused address")

// nonPublic are ranges netip's predicates do not cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may map onto a private IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"), // documentation
}

// checkAddr refuses an address the policy does not allow.
func (p Policy) checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if p.AllowPrivate {
		return nil
	}
	bad := ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || !ip.IsValid()
	for _, n := range nonPublic {
		bad = bad || n.Contains(ip)
	}
	if bad {
		return fmt.Errorf("%w: %s is not a public address (the operator allows private addresses with UG_WEBHOOK_ALLOW_PRIVATE)", ErrRefusedAddress, ip)
	}
	return nil
}

// maxURLLength bounds a webhook URL.
const maxURLLength = 2048

// CheckURL validates a webhook URL against the policy, resolving its host (resolve may be
// nil: net.DefaultResolver). Sending checks the address again at connect time.
func (p Policy) CheckURL(ctx context.Context, raw string, resolve func(ctx context.Context, host string) ([]netip.Addr, error)) error {
	if raw == "" {
		return errors.New("required")
	}
	if len(raw) > maxURLLength {
		return fmt.Errorf("at most %d characters", maxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return errors.New("want https (the operator allows http with UG_WEBHOOK_ALLOW_HTTP)")
		}
	default:
		return errors.New("want an https URL")
	}
	if u.User != nil {
		return errors.New("credentials in the URL are not accepted (put a token in the path)")
	}
	if u.Fragment != "" {
		return errors.New("a fragment is not sent; remove it")
	}
	host := u.Hostname()
	if host == "" {
		return errors.New("no host")
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return p.checkAddr(ip)
	}
	if !p.AllowPrivate && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return fmt.Errorf("%w: %s is loopback", ErrRefusedAddress, host)
	}
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return fmt.Errorf("host %s does not resolve", host)
	}
	for _, a := range addrs {
		if err := p.checkAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// Limits bound what one delivery may cost the worker.
type Limits struct {
	// Timeout bounds a whole request: connect, TLS, send, the answer's headers and body.
	Timeout time.Duration
	// MaxResponseBytes is how much of an answer is read (the rest is discarded unread).
	MaxResponseBytes int64
}

// DefaultLimits are a deployment's.
var DefaultLimits = Limits{Timeout: 10 * time.Second, MaxResponseBytes: 64 << 10}

// Client is an HTTP client that connects only to addresses the policy allows (checked on the
// resolved address at connect time, so a DNS answer that changes after validation gains
// nothing), uses no proxy, follows no redirect and bounds its time.
func (p Policy) Client(l Limits) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrRefusedAddress, address)
			}
			return p.checkAddr(ap.Addr())
		},
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: l.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   l.Timeout,
		// A redirect could lead anywhere: it counts as a failed delivery.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
