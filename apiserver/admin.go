package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// The operator's sub-commands work on the store directly (the operator holds the database
// URL, as for `migrate`), apply pending migrations first, and are audited with source `cli`.
const adminUsage = "usage:\n" + adminCommands +
	"flags: the configuration flags of apiserver (--database-url, --rpc-url, ...; see apiserver --help)"

const adminCommands = `  apiserver multisig serve ADDRESS [--label L] [flags]   serve a multisig (it must exist on chain)
  apiserver multisig unserve ADDRESS [flags]             stop serving it
  apiserver multisig list [flags]                        the served multisigs
  apiserver token create --role guardian|operator --name N [flags]
                                                         print a new bearer token (shown once)
  apiserver token list [flags]                           every token, revoked ones too
  apiserver token revoke ID|NAME [flags]                 revoke a token for good
  apiserver webhook create --name N --url URL (--multisig M | --program P) [--events a,b]
                           [--format json|slack|discord] [--eta-hours H] [--max-attempts N] [flags]
                                                         subscribe a webhook; prints its signing secret once
  apiserver webhook list [flags]                         the webhooks and their deliveries (URLs redacted)
  apiserver webhook pause|resume|delete ID [flags]       stop, restart or remove a webhook's deliveries
`

// admin runs `apiserver multisig ...` and `apiserver token ...`; it returns the exit code:
// 0 done, 1 failed, 2 bad usage.
func admin(group string, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	if config.WantsHelp(args) {
		fmt.Fprintln(stdout, adminUsage)
		return 0
	}
	verb := args[0]
	var label, role, name string
	var hook notify.SubscriptionRequest
	var events string
	cfg, rest, err := config.LoadCommand("apiserver "+group+" "+verb, args[1:], lookupEnv, func(fs *flag.FlagSet) {
		fs.SetOutput(io.Discard)
		switch group + " " + verb {
		case "multisig serve":
			fs.StringVar(&label, "label", "", "a name for the multisig (at most 64 characters)")
		case "token create":
			fs.StringVar(&role, "role", "", "guardian or operator")
			fs.StringVar(&name, "name", "", "the token's name, unique among live tokens")
		case "webhook create":
			fs.StringVar(&hook.Name, "name", "", "the webhook's name")
			fs.StringVar(&hook.URL, "url", "", "the receiver's https URL")
			fs.StringVar(&hook.Multisig, "multisig", "", "scope: a served multisig's events")
			fs.StringVar(&hook.Program, "program", "", "scope: a program's events")
			fs.StringVar(&events, "events", "", "comma-separated event types (default: all)")
			fs.StringVar(&hook.Format, "format", "json", "json, slack or discord")
			fs.IntVar(&hook.EtaReminderHours, "eta-hours", 0, "send proposal.eta_reminder this many hours before eta (0: none)")
			fs.IntVar(&hook.MaxAttempts, "max-attempts", notify.DefaultMaxAttempts, "attempts per delivery before it is marked failed")
		}
	})
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, adminUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "apiserver %s %s: %v\n", group, verb, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, ok := map[string]func() error{
		"multisig serve":   func() error { return serve(ctx, cfg, rest, label, stdout) },
		"multisig unserve": func() error { return withStore(ctx, cfg, rest, 1, unserve(stdout)) },
		"multisig list":    func() error { return withStore(ctx, cfg, rest, 0, listServed(stdout)) },
		"token create":     func() error { return createToken(ctx, cfg, rest, role, name, stdout) },
		"token list":       func() error { return withStore(ctx, cfg, rest, 0, listTokens(stdout)) },
		"token revoke":     func() error { return withStore(ctx, cfg, rest, 1, revokeToken(stdout)) },
		"webhook create":   func() error { return createWebhook(ctx, cfg, rest, hook, events, stdout, stderr) },
		"webhook list":     func() error { return withStore(ctx, cfg, rest, 0, listWebhooks(stdout)) },
		"webhook pause":    func() error { return withStore(ctx, cfg, rest, 1, setWebhook(store.SubscriptionPaused, stdout)) },
		"webhook resume":   func() error { return withStore(ctx, cfg, rest, 1, setWebhook(store.SubscriptionActive, stdout)) },
		"webhook delete":   func() error { return withStore(ctx, cfg, rest, 1, setWebhook(store.SubscriptionDeleted, stdout)) },
	}[group+" "+verb]
	if !ok {
		fmt.Fprintf(stderr, "apiserver %s: unknown command %q\n%s\n", group, verb, adminUsage)
		return 2
	}
	if err := run(); err != nil {
		fmt.Fprintf(stderr, "apiserver %s %s: %v\n", group, verb, err)
		var u usageErr
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
	return 0
}

// usageErr is a mistake in the command line: exit 2, and nothing was done.
type usageErr struct{ msg string }

func (u usageErr) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageErr{fmt.Sprintf(format, args...)} }

// operatorOrigin names the person at the terminal in the audit trail.
func operatorOrigin() store.Origin {
	who := "operator"
	if u, err := user.Current(); err == nil && u.Username != "" {
		who = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		who += "@" + h
	}
	return store.Origin{Actor: who, Source: store.SourceCLI}
}

// openStore connects and applies pending migrations, so the commands work on a new database.
func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	s, err := store.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return s, nil
}

// withStore checks the number of positional arguments, then runs fn on an open store.
func withStore(ctx context.Context, cfg config.Config, args []string, want int, fn func(context.Context, *store.Store, []string) error) error {
	if len(args) != want {
		return usagef("want %d argument(s), got %q", want, args)
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, s, args)
}

func multisigArg(v string) (solana.PublicKey, error) {
	k, err := solana.PublicKeyFromBase58(v)
	if err != nil {
		return k, usagef("ADDRESS %q is not a public key", v)
	}
	return k, nil
}

// serve checks that the multisig exists on chain (a typo would serve nothing) before it is
// listed.
func serve(ctx context.Context, cfg config.Config, args []string, label string, out io.Writer) error {
	if len(args) != 1 {
		return usagef("want ADDRESS, got %q", args)
	}
	addr, err := multisigArg(args[0])
	if err != nil {
		return err
	}
	if len(label) > 64 {
		return usagef("--label: at most 64 characters")
	}
	c := chain.New(cfg.RPCURL)
	defer c.Close()
	if _, err := c.GetMultisig(ctx, addr); err != nil {
		return fmt.Errorf("read multisig %s from %s: %w", addr, cfg.RPCURL, err)
	}
	return withStore(ctx, cfg, args, 1, func(ctx context.Context, s *store.Store, _ []string) error {
		m, created, err := s.ServeMultisig(ctx, store.ServedMultisig{Address: addr.String(), Label: label}, operatorOrigin())
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(out, "serving multisig %s\n", m.Address)
		} else {
			fmt.Fprintf(out, "multisig %s was already served (since %s, by %s)\n", m.Address, m.ServedAt.Format(time.RFC3339), m.ServedBy)
		}
		return nil
	})
}

func unserve(out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, args []string) error {
		addr, err := multisigArg(args[0])
		if err != nil {
			return err
		}
		if err := s.UnserveMultisig(ctx, addr.String(), operatorOrigin()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("multisig %s is not served", addr)
			}
			return err
		}
		fmt.Fprintf(out, "no longer serving multisig %s\n", addr)
		return nil
	}
}

func listServed(out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, _ []string) error {
		list, err := s.ListServed(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ADDRESS\tLABEL\tSERVED AT\tBY")
		for _, m := range list {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Address, m.Label, m.ServedAt.Format(time.RFC3339), m.ServedBy)
		}
		return w.Flush()
	}
}

func createToken(ctx context.Context, cfg config.Config, args []string, role, name string, out io.Writer) error {
	if len(args) != 0 {
		return usagef("unexpected arguments %q", args)
	}
	r := store.Role(role)
	if r != store.RoleGuardian && r != store.RoleOperator {
		return usagef("--role: want guardian or operator, got %q", role)
	}
	if name == "" {
		return usagef("--name: required")
	}
	return withStore(ctx, cfg, nil, 0, func(ctx context.Context, s *store.Store, _ []string) error {
		plaintext, t, err := s.CreateToken(ctx, name, r, operatorOrigin())
		if errors.Is(err, store.ErrInvalid) {
			return usagef("--name: want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("a live token is already named %q (revoke it first)", name)
		}
		if err != nil {
			return err
		}
		// The only time the token is shown: to stdout, alone on its line, for scripts.
		fmt.Fprintln(out, plaintext)
		fmt.Fprintf(os.Stderr, "created token %d %q with role %s; it is shown once, store it now\n", t.ID, t.Name, t.Role)
		return nil
	})
}

func listTokens(out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, _ []string) error {
		list, err := s.ListTokens(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tCREATED AT\tREVOKED AT")
		for _, t := range list {
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return w.Flush()
	}
}

// revokeToken takes a token's ID or the name of a live token.
func revokeToken(out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, args []string) error {
		list, err := s.ListTokens(ctx)
		if err != nil {
			return err
		}
		id, idErr := strconv.ParseInt(args[0], 10, 64)
		var found *store.APIToken
		for i, t := range list {
			if (idErr == nil && t.ID == id) || (t.Name == args[0] && t.RevokedAt == nil) {
				found = &list[i]
				break
			}
		}
		if found == nil {
			return fmt.Errorf("no token with ID or live name %q", args[0])
		}
		if err := s.RevokeToken(ctx, found.ID, operatorOrigin()); err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked token %d %q\n", found.ID, found.Name)
		return nil
	}
}

// createWebhook checks the request as the API does (the operator's URL policy, the served
// list), stores it and prints the signing secret once, alone on stdout.
func createWebhook(ctx context.Context, cfg config.Config, args []string, req notify.SubscriptionRequest, events string, out, errOut io.Writer) error {
	if len(args) != 0 {
		return usagef("unexpected arguments %q", args)
	}
	if events != "" {
		req.Events = strings.Split(events, ",")
	}
	policy := notify.Policy{AllowHTTP: cfg.AllowWebhookHTTP(), AllowPrivate: cfg.AllowWebhookPrivate()}
	if ferr := policy.Check(ctx, &req, nil); ferr != nil {
		flagName := map[string]string{"eta_reminder_hours": "eta-hours", "max_attempts": "max-attempts"}[ferr.Field]
		if flagName == "" {
			flagName, _, _ = strings.Cut(ferr.Field, "[")
		}
		return usagef("--%s: %s", flagName, ferr.Msg)
	}
	return withStore(ctx, cfg, nil, 0, func(ctx context.Context, s *store.Store, _ []string) error {
		if req.Multisig != "" {
			served, err := s.IsServed(ctx, req.Multisig)
			if err != nil {
				return err
			}
			if !served {
				return usagef("--multisig: %s is not served (apiserver multisig serve %s)", req.Multisig, req.Multisig)
			}
		}
		secret, err := notify.NewSecret()
		if err != nil {
			return err
		}
		sub, err := s.CreateSubscription(ctx, req.Subscription(), secret, operatorOrigin())
		if err != nil {
			return err
		}
		fmt.Fprintln(out, secret)
		fmt.Fprintf(errOut, "created webhook %d %q to %s; the line above is its signing secret (header %s), shown once: store it now\n",
			sub.ID, sub.Name, sub.RedactedURL(), notify.HeaderSignature)
		return nil
	})
}

func listWebhooks(out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, _ []string) error {
		list, err := s.ListSubscriptions(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tSTATUS\tSCOPE\tURL\tFORMAT\tEVENTS\tPENDING\tDELIVERED\tFAILED")
		for _, sub := range list {
			scope := "multisig " + sub.Multisig
			if sub.Program != "" {
				scope = "program " + sub.Program
			}
			ev := "all"
			if len(sub.Events) > 0 {
				ev = strings.Join(sub.Events, ",")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", sub.ID, sub.Name, sub.Status, scope, sub.RedactedURL(),
				sub.Format, ev, sub.Deliveries[store.DeliveryPending], sub.Deliveries[store.DeliveryDelivered], sub.Deliveries[store.DeliveryFailed])
		}
		return w.Flush()
	}
}

// setWebhook pauses, resumes or deletes a webhook. A resumed webhook's queue is sent when its
// delivery workflow next looks (at once when the API resumes it; within minutes from here, or
// when the worker starts).
func setWebhook(status string, out io.Writer) func(context.Context, *store.Store, []string) error {
	return func(ctx context.Context, s *store.Store, args []string) error {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return usagef("ID %q is not a webhook's number", args[0])
		}
		sub, err := s.SetSubscriptionStatus(ctx, id, status, operatorOrigin())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no webhook %d", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "webhook %d %q is %s\n", sub.ID, sub.Name, sub.Status)
		return nil
	}
}
