package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
)

// KeyResult is what keygen and address print: the public key, and for keygen the file written.
type KeyResult struct {
	Address string `json:"address"`
	Outfile string `json:"outfile,omitempty"`
}

func (r KeyResult) writeText(w io.Writer) {
	if r.Outfile != "" {
		fmt.Fprintf(w, "wrote %s\n", r.Outfile)
	}
	fmt.Fprintln(w, r.Address)
}

// runKeygen writes a new keypair in the Solana CLI's format (a JSON array of the 64 secret-key
// bytes, mode 0600), so `solana` and `solana-keygen` read it too. It never replaces a file
// unless --force says so, and never prints the secret.
func runKeygen(_ context.Context, e *env, args []string) (result, error) {
	const usage = "keygen [--outfile FILE] [--force]"
	fs := e.flagSet("keygen")
	outfile := fs.String("outfile", defaultKeypair, "keypair `file` to write")
	force := fs.Bool("force", false, "replace an existing file (its key is lost)")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	path := e.expandHome(*outfile)
	if _, err := os.Stat(path); err == nil && !*force {
		return nil, inputError("exists", "--outfile", "%s exists; pass --force to replace it (its key is lost)", path)
	} else if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return nil, inputError("outfile", "--outfile", "%v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, inputError("outfile", "--outfile", "%v", err)
	}
	kp, err := chain.NewKeypair()
	if err != nil {
		return nil, err
	}
	if err := kp.WriteFile(path); err != nil {
		return nil, inputError("outfile", "--outfile", "%v", err)
	}
	return KeyResult{Address: kp.PublicKey().String(), Outfile: path}, nil
}

// runAddress prints the public key of --keypair, like `solana address`.
func runAddress(_ context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("address")
	if _, err := e.parseCommand(fs, "address", args); err != nil {
		return nil, err
	}
	kp, err := e.loadKeypair("--keypair", e.g.keypair)
	if err != nil {
		return nil, err
	}
	return KeyResult{Address: kp.PublicKey().String()}, nil
}
