package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// HashResult is what `hash` prints: solana-verify's hash (SHA-256 of the ELF, trailing zero
// bytes stripped), equal to get-buffer-hash, get-program-hash and get-executable-hash.
type HashResult struct {
	Hash string `json:"hash"`
	// Source is buffer, program or file; Of is its address or path.
	Source string `json:"source"`
	Of     string `json:"of"`
}

// writeText prints the hash alone, like solana-verify, so scripts can compare the two.
func (r HashResult) writeText(w io.Writer) { fmt.Fprintln(w, r.Hash) }

func runHash(ctx context.Context, e *env, args []string) (result, error) {
	const usage = "hash (--buffer ADDR | --program ADDR | --file ELF)"
	fs := e.flagSet("hash")
	buffer := fs.String("buffer", "", "loader buffer `address` (solana-verify get-buffer-hash)")
	program := fs.String("program", "", "deployed program `address` (solana-verify get-program-hash)")
	file := fs.String("file", "", "ELF `file` (solana-verify get-executable-hash)")
	if _, err := e.parseCommand(fs, usage, args); err != nil {
		return nil, err
	}
	given := 0
	for _, v := range []string{*buffer, *program, *file} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return nil, usageError("", "give exactly one of --buffer, --program, --file (usage: ugov %s)", usage)
	}
	var elf []byte
	res := HashResult{}
	switch {
	case *file != "":
		data, err := os.ReadFile(e.expandHome(*file))
		if err != nil {
			return nil, inputError("file", "--file", "%v", err)
		}
		elf, res.Source, res.Of = data, "file", *file
	case *buffer != "":
		addr, err := parsePubkey("--buffer", *buffer)
		if err != nil {
			return nil, err
		}
		b, err := e.chain.GetBuffer(ctx, addr)
		if err != nil {
			return nil, atField("--buffer", err)
		}
		elf, res.Source, res.Of = b.ELF, "buffer", addr.String()
	default:
		addr, err := parsePubkey("--program", *program)
		if err != nil {
			return nil, err
		}
		pd, err := e.chain.GetProgramData(ctx, addr)
		if err != nil {
			return nil, atField("--program", err)
		}
		elf, res.Source, res.Of = pd.ELF, "program", addr.String()
	}
	h := loader.ELFHash(elf)
	res.Hash = hex.EncodeToString(h[:])
	return res, nil
}
