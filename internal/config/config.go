// Package config loads the settings shared by the worker and the apiserver from UG_* environment
// variables, overridden by command-line flags.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// DefaultProgramID is the governor's address this build was made for (internal/governor's
// programID, set with -ldflags for a deployment under another id).
var DefaultProgramID = governor.ProgramID.String()

// Config is what both binaries need to reach Temporal, the chain and PostgreSQL.
type Config struct {
	TemporalAddress   string
	TemporalNamespace string
	TaskQueue         string
	// RPCURL is the Solana JSON-RPC endpoint.
	RPCURL string
	// WSURL is the Solana PubSub endpoint; empty means derived from RPCURL the way the solana CLI
	// does it (ws scheme, port + 1).
	WSURL       string
	DatabaseURL string
	// KeypairPath points at the guardian's keypair file (the worker's emergency cancels); the
	// key is loaded elsewhere and never passes through Config.
	KeypairPath string
	// FeePayerKeypairPath points at the worker's fee payer, which pays for execute, the rent of
	// ExtendProgram and migrations. It must not be the guardian's key, so that draining it
	// cannot disable the emergency stop.
	FeePayerKeypairPath string
	// MaxExtendRentLamports bounds the rent the worker pays to extend one proposal's
	// ProgramData (decimal lamports); beyond it the members extend the program themselves.
	MaxExtendRentLamports string
	// FeePayerMinLamports is the balance under which /readyz reports the fee payer low.
	FeePayerMinLamports string
	// PriorityFee is what the worker's and the members' transactions bid per compute unit:
	// micro-lamports, pNN (a percentile of recent fees) or pNN:FLOOR.
	PriorityFee string
	HTTPAddr    string
	ProgramID   string
	LogLevel    string
	// PublicURL is where people reach the API and its /ui/ (links in notifications and feeds).
	PublicURL string
	// WebhookAllowHTTP ("true"/"false") accepts http:// webhook URLs.
	WebhookAllowHTTP string
	// WebhookAllowPrivate ("true"/"false") accepts webhook URLs that lead to loopback, private
	// or link-local addresses (an SSRF risk: only for receivers on a trusted network, and tests).
	WebhookAllowPrivate string
}

// setting is one field's names, default and help, written once for flags, env and docs.
type setting struct {
	flag, env, def, usage string
	field                 func(*Config) *string
}

var settings = []setting{
	{"temporal-address", "UG_TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port",
		func(c *Config) *string { return &c.TemporalAddress }},
	{"temporal-namespace", "UG_TEMPORAL_NAMESPACE", "default", "Temporal namespace",
		func(c *Config) *string { return &c.TemporalNamespace }},
	{"task-queue", "UG_TASK_QUEUE", "upgrade-governor", "Temporal task queue of the worker",
		func(c *Config) *string { return &c.TaskQueue }},
	{"rpc-url", "UG_RPC_URL", "http://127.0.0.1:8899", "Solana JSON-RPC URL",
		func(c *Config) *string { return &c.RPCURL }},
	{"ws-url", "UG_WS_URL", "", "Solana WebSocket URL (default: RPC URL with ws scheme and port+1)",
		func(c *Config) *string { return &c.WSURL }},
	{"database-url", "UG_DATABASE_URL", "", "PostgreSQL URL (postgres://user:password@host:port/db)",
		func(c *Config) *string { return &c.DatabaseURL }},
	{"keypair", "UG_KEYPAIR_PATH", "", "path of the guardian keypair file (signs and pays only emergency cancels)",
		func(c *Config) *string { return &c.KeypairPath }},
	{"fee-payer-keypair", "UG_FEE_PAYER_KEYPAIR_PATH", "", "path of the worker's fee-payer keypair file (pays execute, ExtendProgram rent and migrations; not the guardian's)",
		func(c *Config) *string { return &c.FeePayerKeypairPath }},
	{"max-extend-rent", "UG_MAX_EXTEND_RENT_LAMPORTS", "1000000000", "most lamports of rent the worker pays to extend one proposal's ProgramData",
		func(c *Config) *string { return &c.MaxExtendRentLamports }},
	{"fee-payer-min-balance", "UG_FEE_PAYER_MIN_LAMPORTS", "100000000", "fee-payer balance (lamports) under which /readyz reports it low",
		func(c *Config) *string { return &c.FeePayerMinLamports }},
	{"priority-fee", "UG_PRIORITY_FEE", "p50", "priority fee per compute unit: micro-lamports, pNN (that percentile of the fees the cluster's recent blocks paid) or pNN:FLOOR",
		func(c *Config) *string { return &c.PriorityFee }},
	{"http-addr", "UG_HTTP_ADDR", "127.0.0.1:8080", "HTTP listen address of the apiserver",
		func(c *Config) *string { return &c.HTTPAddr }},
	{"program-id", "UG_PROGRAM_ID", DefaultProgramID, "address of the upgrade-governor program",
		func(c *Config) *string { return &c.ProgramID }},
	{"log-level", "UG_LOG_LEVEL", "info", "log level: debug, info, warn or error",
		func(c *Config) *string { return &c.LogLevel }},
	{"public-url", "UG_PUBLIC_URL", "http://127.0.0.1:8080", "URL people reach the API at (links in notifications and feeds)",
		func(c *Config) *string { return &c.PublicURL }},
	{"webhook-allow-http", "UG_WEBHOOK_ALLOW_HTTP", "false", "accept http:// webhook URLs (true or false)",
		func(c *Config) *string { return &c.WebhookAllowHTTP }},
	{"webhook-allow-private", "UG_WEBHOOK_ALLOW_PRIVATE", "false", "accept webhook URLs leading to loopback, private or link-local addresses (true or false)",
		func(c *Config) *string { return &c.WebhookAllowPrivate }},
}

// EnvVars lists every environment variable Load reads, for deployment files and their tests.
func EnvVars() []string {
	out := make([]string, len(settings))
	for i, s := range settings {
		out[i] = s.env
	}
	return out
}

// WantsHelp reports whether args ask for help (-h, -help or --help anywhere).
func WantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// PrintFlags writes every setting as `--flag (env UG_X, default D)` with its help, for a
// binary's --help.
func PrintFlags(w io.Writer) {
	for _, s := range settings {
		def := ""
		if s.def != "" {
			def = ", default " + s.def
		}
		fmt.Fprintf(w, "  --%s (env %s%s)\n        %s\n", s.flag, s.env, def, s.usage)
	}
}

// Default returns the configuration with every default applied and nothing read.
func Default() Config {
	var c Config
	for _, s := range settings {
		*s.field(&c) = s.def
	}
	return c
}

// Load reads defaults, then the environment through lookupEnv (os.LookupEnv in a main), then
// the flags in args, and validates the result. name is the program name shown in usage.
func Load(name string, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	c, rest, err := LoadCommand(name, args, lookupEnv, nil)
	if err != nil {
		return Config{}, err
	}
	if len(rest) > 0 {
		return Config{}, fmt.Errorf("config: unexpected arguments %q", rest)
	}
	return c, nil
}

// LoadCommand is Load for a sub-command: define adds the command's own flags to the same flag
// set, and the arguments left after the flags are returned instead of refused.
func LoadCommand(name string, args []string, lookupEnv func(string) (string, bool), define func(*flag.FlagSet)) (Config, []string, error) {
	c := Default()
	for _, s := range settings {
		if v, ok := lookupEnv(s.env); ok {
			*s.field(&c) = v
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	for _, s := range settings {
		p := s.field(&c)
		fs.StringVar(p, s.flag, *p, fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
	if define != nil {
		define(fs)
	}
	// Flags may follow arguments (`serve ADDRESS --label L`): parse, set the first argument
	// aside, parse the rest.
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return Config{}, nil, fmt.Errorf("config: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := c.Validate(); err != nil {
		return Config{}, nil, err
	}
	return c, rest, nil
}

// Validate checks every field and names the first bad one with its env variable.
func (c Config) Validate() error {
	checks := []struct {
		env string
		err error
	}{
		{"UG_TEMPORAL_ADDRESS", checkHostPort(c.TemporalAddress)},
		{"UG_TEMPORAL_NAMESPACE", checkNonEmpty(c.TemporalNamespace)},
		{"UG_TASK_QUEUE", checkNonEmpty(c.TaskQueue)},
		{"UG_RPC_URL", checkURL(c.RPCURL, "http", "https")},
		{"UG_WS_URL", checkOptionalURL(c.WSURL, "ws", "wss")},
		{"UG_DATABASE_URL", checkDatabaseURL(c.DatabaseURL)},
		{"UG_HTTP_ADDR", checkHostPort(c.HTTPAddr)},
		{"UG_PROGRAM_ID", checkProgramID(c.ProgramID)},
		{"UG_LOG_LEVEL", checkLogLevel(c.LogLevel)},
		{"UG_MAX_EXTEND_RENT_LAMPORTS", checkLamports(c.MaxExtendRentLamports)},
		{"UG_FEE_PAYER_MIN_LAMPORTS", checkLamports(c.FeePayerMinLamports)},
		{"UG_PRIORITY_FEE", checkPriorityFee(c.PriorityFee)},
		{"UG_PUBLIC_URL", checkURL(c.PublicURL, "http", "https")},
		{"UG_WEBHOOK_ALLOW_HTTP", checkBool(c.WebhookAllowHTTP)},
		{"UG_WEBHOOK_ALLOW_PRIVATE", checkBool(c.WebhookAllowPrivate)},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return fmt.Errorf("config: %s (%s / --%s): %w", fieldName(ch.env), ch.env, flagOf(ch.env), ch.err)
		}
	}
	return nil
}

// WebSocketURL is WSURL, or when empty the URL the solana CLI would guess from RPCURL.
func (c Config) WebSocketURL() string {
	if c.WSURL != "" {
		return c.WSURL
	}
	u, err := url.Parse(c.RPCURL)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(n+1))
		}
	}
	return u.String()
}

// MaxExtendRent is MaxExtendRentLamports as a number (Validate has checked it parses).
func (c Config) MaxExtendRent() uint64 {
	n, _ := strconv.ParseUint(c.MaxExtendRentLamports, 10, 64)
	return n
}

// FeePayerMin is FeePayerMinLamports as a number (Validate has checked it parses).
func (c Config) FeePayerMin() uint64 {
	n, _ := strconv.ParseUint(c.FeePayerMinLamports, 10, 64)
	return n
}

// AllowWebhookHTTP is WebhookAllowHTTP as a bool (Validate has checked it parses).
func (c Config) AllowWebhookHTTP() bool { b, _ := strconv.ParseBool(c.WebhookAllowHTTP); return b }

// AllowWebhookPrivate is WebhookAllowPrivate as a bool (Validate has checked it parses).
func (c Config) AllowWebhookPrivate() bool {
	b, _ := strconv.ParseBool(c.WebhookAllowPrivate)
	return b
}

// SlogLevel is LogLevel as a slog.Level (Validate has checked it parses).
func (c Config) SlogLevel() slog.Level {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.LogLevel))
	return l
}

// String shows the configuration with passwords and API keys redacted, so it is safe to log.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("{")
	for i, s := range c.redacted() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%s", s[0], s[1])
	}
	b.WriteString("}")
	return b.String()
}

// GoString keeps %#v from printing secrets too.
func (c Config) GoString() string { return "config.Config" + c.String() }

// LogValue makes slog print the redacted configuration.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	for _, s := range c.redacted() {
		attrs = append(attrs, slog.String(s[0], s[1]))
	}
	return slog.GroupValue(attrs...)
}

func (c Config) redacted() [][2]string {
	out := make([][2]string, 0, len(settings))
	for _, s := range settings {
		v := *s.field(&c)
		switch s.env {
		case "UG_DATABASE_URL", "UG_RPC_URL", "UG_WS_URL":
			v = redactSecrets(v)
		}
		out = append(out, [2]string{fieldName(s.env), v})
	}
	return out
}

const redactedMark = "xxxxx"

var (
	// key=value connection strings: password='it''s' or password=secret
	dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.|'')*'|\S+)`)
	secretParam = regexp.MustCompile(`(?i)(key|token|secret|password|auth)`)
)

// redactSecrets hides a URL's password and the values of query parameters that look like
// credentials (RPC providers put API keys there); key=value DSNs get their password hidden.
func redactSecrets(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return dsnPassword.ReplaceAllString(s, "${1}"+redactedMark)
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedMark)
	}
	q := u.Query()
	changed := false
	for k := range q {
		if secretParam.MatchString(k) {
			q.Set(k, redactedMark)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func fieldName(env string) string {
	return strings.ToLower(strings.TrimPrefix(env, "UG_"))
}

func flagOf(env string) string {
	for _, s := range settings {
		if s.env == env {
			return s.flag
		}
	}
	return ""
}

func checkNonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func checkHostPort(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("want host:port: %w", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

func checkURL(v string, schemes ...string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return nil
		}
	}
	return fmt.Errorf("want a %s URL with a host, got %q", strings.Join(schemes, " or "), redactSecrets(v))
}

func checkOptionalURL(v string, schemes ...string) error {
	if v == "" {
		return nil
	}
	return checkURL(v, schemes...)
}

func checkDatabaseURL(v string) error {
	if v == "" {
		return errors.New("required")
	}
	if _, err := pgconn.ParseConfig(v); err != nil {
		// pgconn's message can quote the input; say only that it did not parse.
		return errors.New("not a valid PostgreSQL connection string")
	}
	return nil
}

func checkPubkey(v string) error {
	if _, err := solana.PublicKeyFromBase58(v); err != nil {
		return fmt.Errorf("not a base58 public key: %w", err)
	}
	return nil
}

// checkProgramID accepts the id this build was made for only: the program's id is fixed at
// compile time, and a binary that decoded another program's accounts with this one's layout
// would mislead.
func checkProgramID(v string) error {
	if err := checkPubkey(v); err != nil {
		return err
	}
	if v != governor.ProgramID.String() {
		return fmt.Errorf("this build serves the governor %s, not %s: build the program with your id (anchor keys sync) "+
			"and these binaries with -ldflags \"-X github.com/upgrade-governor/upgrade-governor/internal/governor.programID=%s\"",
			governor.ProgramID, v, v)
	}
	return nil
}

func checkPriorityFee(v string) error {
	_, err := chain.ParsePriorityFee(v)
	return err
}

// Fee is PriorityFee parsed (Validate has checked it parses).
func (c Config) Fee() chain.PriorityFee {
	p, _ := chain.ParsePriorityFee(c.PriorityFee)
	return p
}

func checkLamports(v string) error {
	if _, err := strconv.ParseUint(v, 10, 64); err != nil {
		return fmt.Errorf("want a whole number of lamports, got %q", v)
	}
	return nil
}

func checkBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("want true or false, got %q", v)
	}
	return nil
}

func checkLogLevel(v string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		return fmt.Errorf("want debug, info, warn or error: %w", err)
	}
	return nil
}
