package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

// errBatch marks a failure of the caller's batch function: it is not the node's and is not
// retried as an RPC failure.
type errBatch struct{ err error }

func (e errBatch) Error() string { return e.err.Error() }
func (e errBatch) Unwrap() error { return e.err }

// StreamProgramAccountKeys lists what ListProgramAccountKeys lists, decoding the node's answer
// as it arrives and handing the keys to fn a batch (at most batch keys) at a time: listing a
// million accounts then holds one batch in memory, not the answer (~200 bytes a key) and its
// decoded copy. A transient failure restarts the listing from the first key, so fn must accept
// keys again (the migration's rows are upserts). It returns how many keys the last, complete
// listing handed over. A client made over a custom transport (NewWithRPCClient) reads the whole
// answer and then hands it over in batches.
func (c *Client) StreamProgramAccountKeys(ctx context.Context, program solana.PublicKey, dataSize uint64,
	filters []Memcmp, batch int, fn func([]solana.PublicKey) error) (int, error) {
	batch = max(batch, 1)
	if c.rpcURL == "" {
		keys, err := c.ListProgramAccountKeys(ctx, program, dataSize, filters...)
		if err != nil {
			return 0, err
		}
		for start := 0; start < len(keys); start += batch {
			if err := fn(keys[start:min(start+batch, len(keys))]); err != nil {
				return 0, err
			}
		}
		return len(keys), nil
	}
	zero, offset := uint64(0), uint64(0)
	opts := c.programAccountsOpts(dataSize, filters)
	opts.DataSlice = &rpc.DataSlice{Offset: &offset, Length: &zero}
	body, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": 1, "method": "getProgramAccounts", "params": []any{program, opts},
	})
	if err != nil {
		return 0, fmt.Errorf("encode getProgramAccounts: %w", err)
	}
	var total int
	// No per-call timeout: a long answer may take longer than one call is allowed; ctx bounds it.
	err = c.retrying(ctx, "getProgramAccounts", 0, func(ctx context.Context) error {
		n, err := c.streamKeys(ctx, body, batch, fn)
		total = n
		return err
	})
	var be errBatch
	if errors.As(err, &be) {
		return 0, be.err
	}
	if err != nil {
		return 0, fmt.Errorf("list account keys of program %s: %w", program, err)
	}
	return total, nil
}

func (c *Client) streamKeys(ctx context.Context, body []byte, batch int, fn func([]solana.PublicKey) error) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.rpcURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // only for the error message
		return 0, jsonrpc.NewHTTPError(resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(head)))
	}
	dec := json.NewDecoder(resp.Body)
	if err := expectDelim(dec, '{'); err != nil {
		return 0, err
	}
	total := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, fmt.Errorf("decode answer: %w", err)
		}
		switch tok {
		case "result":
			if total, err = decodeKeys(dec, batch, fn); err != nil {
				return 0, err
			}
		case "error":
			var rpcErr jsonrpc.RPCError
			if err := dec.Decode(&rpcErr); err != nil {
				return 0, fmt.Errorf("decode error answer: %w", err)
			}
			return 0, &rpcErr
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, fmt.Errorf("decode answer: %w", err)
			}
		}
	}
	return total, nil
}

func decodeKeys(dec *json.Decoder, batch int, fn func([]solana.PublicKey) error) (int, error) {
	if err := expectDelim(dec, '['); err != nil {
		return 0, err
	}
	keys := make([]solana.PublicKey, 0, batch)
	total := 0
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		if err := fn(keys); err != nil {
			return errBatch{err}
		}
		total += len(keys)
		keys = keys[:0]
		return nil
	}
	for dec.More() {
		var item struct {
			Pubkey solana.PublicKey `json:"pubkey"`
		}
		if err := dec.Decode(&item); err != nil {
			return 0, fmt.Errorf("decode account: %w", err)
		}
		keys = append(keys, item.Pubkey)
		if len(keys) == batch {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := expectDelim(dec, ']'); err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return total, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("decode answer: got %v, want %q", tok, want)
	}
	return nil
}
