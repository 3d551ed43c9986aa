package chain

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// ErrAccountNotFound means the account does not exist (or has no lamports).
var ErrAccountNotFound = errors.New("account not found")

// GetAccount reads an account at the client's commitment.
func (c *Client) GetAccount(ctx context.Context, key solana.PublicKey) (*rpc.Account, error) {
	var out *rpc.GetAccountInfoResult
	err := c.call(ctx, "getAccountInfo", func(ctx context.Context) (err error) {
		out, err = c.rpc.GetAccountInfoWithOpts(ctx, key, &rpc.GetAccountInfoOpts{
			Commitment: c.commitment,
			Encoding:   solana.EncodingBase64,
		})
		if errors.Is(err, rpc.ErrNotFound) {
			out, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", key, err)
	}
	if out == nil || out.Value == nil {
		return nil, fmt.Errorf("get account %s: %w", key, ErrAccountNotFound)
	}
	return out.Value, nil
}

// governorAccount reads an account that must belong to the governor.
func (c *Client) governorAccount(ctx context.Context, key solana.PublicKey) ([]byte, error) {
	acc, err := c.GetAccount(ctx, key)
	if err != nil {
		return nil, err
	}
	if !acc.Owner.Equals(governor.ProgramID) {
		return nil, fmt.Errorf("account %s is owned by %s, not the governor: %w", key, acc.Owner, governor.ErrWrongAccount)
	}
	return acc.Data.GetBinary(), nil
}

// GetMultisig reads and decodes a Multisig account.
func (c *Client) GetMultisig(ctx context.Context, multisig solana.PublicKey) (*governor.Multisig, error) {
	data, err := c.governorAccount(ctx, multisig)
	if err != nil {
		return nil, fmt.Errorf("get multisig: %w", err)
	}
	m, err := governor.DecodeMultisig(data)
	if err != nil {
		return nil, fmt.Errorf("get multisig %s: %w", multisig, err)
	}
	return m, nil
}

// GetProposal reads and decodes a Proposal account.
func (c *Client) GetProposal(ctx context.Context, proposal solana.PublicKey) (*governor.Proposal, error) {
	data, err := c.governorAccount(ctx, proposal)
	if err != nil {
		return nil, fmt.Errorf("get proposal: %w", err)
	}
	p, err := governor.DecodeProposal(data)
	if err != nil {
		return nil, fmt.Errorf("get proposal %s: %w", proposal, err)
	}
	return p, nil
}

// GetGovernedProgram reads the record of a program governed by multisig: which executed
// proposal deployed its current code.
func (c *Client) GetGovernedProgram(ctx context.Context, multisig, program solana.PublicKey) (*governor.GovernedProgram, error) {
	addr, _ := governor.FindGovernedProgramAddress(multisig, program)
	data, err := c.governorAccount(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("get governed program: %w", err)
	}
	g, err := governor.DecodeGovernedProgram(data)
	if err != nil {
		return nil, fmt.Errorf("get governed program %s: %w", addr, err)
	}
	return g, nil
}

// ProposalAccount is a Proposal with its address.
type ProposalAccount struct {
	Address solana.PublicKey
	*governor.Proposal
}

// ListProposals returns every proposal of a multisig, by index (getProgramAccounts on the
// governor, filtered by the Proposal discriminator and the multisig field).
func (c *Client) ListProposals(ctx context.Context, multisig solana.PublicKey) ([]ProposalAccount, error) {
	accs, err := c.ListProgramAccounts(ctx, governor.ProgramID, governor.ProposalAccountSize,
		Memcmp{Offset: 0, Bytes: governor.ProposalDiscriminator[:]},
		Memcmp{Offset: governor.ProposalMultisigOffset, Bytes: multisig[:]},
	)
	if err != nil {
		return nil, fmt.Errorf("list proposals of %s: %w", multisig, err)
	}
	out := make([]ProposalAccount, 0, len(accs))
	for _, a := range accs {
		p, err := governor.DecodeProposal(a.Account.Data.GetBinary())
		if err != nil {
			return nil, fmt.Errorf("list proposals of %s: %s: %w", multisig, a.Pubkey, err)
		}
		out = append(out, ProposalAccount{Address: a.Pubkey, Proposal: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

// Memcmp is a getProgramAccounts filter: the account's data at Offset equals Bytes.
type Memcmp struct {
	Offset uint64
	Bytes  []byte
}

// KeyedAccount is an account with its address.
type KeyedAccount struct {
	Pubkey  solana.PublicKey
	Account *rpc.Account
}

// ListProgramAccounts returns the accounts owned by program whose data is dataSize bytes
// long (0: any size) and matches every memcmp filter. Migrations use it to find the
// accounts to migrate.
func (c *Client) ListProgramAccounts(ctx context.Context, program solana.PublicKey, dataSize uint64, filters ...Memcmp) ([]KeyedAccount, error) {
	opts := c.programAccountsOpts(dataSize, filters)
	var res rpc.GetProgramAccountsResult
	err := c.call(ctx, "getProgramAccounts", func(ctx context.Context) (err error) {
		res, err = c.rpc.GetProgramAccountsWithOpts(ctx, program, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts of program %s: %w", program, err)
	}
	out := make([]KeyedAccount, 0, len(res))
	for _, a := range res {
		if a == nil || a.Account == nil {
			continue
		}
		out = append(out, KeyedAccount{Pubkey: a.Pubkey, Account: a.Account})
	}
	return out, nil
}

// ListProgramAccountKeys is ListProgramAccounts without the data (a zero-length dataSlice):
// listing a million accounts to migrate then costs their keys, not their bytes.
func (c *Client) ListProgramAccountKeys(ctx context.Context, program solana.PublicKey, dataSize uint64, filters ...Memcmp) ([]solana.PublicKey, error) {
	zero, offset := uint64(0), uint64(0)
	opts := c.programAccountsOpts(dataSize, filters)
	opts.DataSlice = &rpc.DataSlice{Offset: &offset, Length: &zero}
	var res rpc.GetProgramAccountsResult
	err := c.call(ctx, "getProgramAccounts", func(ctx context.Context) (err error) {
		res, err = c.rpc.GetProgramAccountsWithOpts(ctx, program, opts)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list account keys of program %s: %w", program, err)
	}
	out := make([]solana.PublicKey, 0, len(res))
	for _, a := range res {
		if a != nil {
			out = append(out, a.Pubkey)
		}
	}
	return out, nil
}

func (c *Client) programAccountsOpts(dataSize uint64, filters []Memcmp) *rpc.GetProgramAccountsOpts {
	opts := &rpc.GetProgramAccountsOpts{Commitment: c.commitment, Encoding: solana.EncodingBase64}
	if dataSize > 0 {
		opts.Filters = append(opts.Filters, rpc.RPCFilter{DataSize: dataSize})
	}
	for _, f := range filters {
		opts.Filters = append(opts.Filters, rpc.RPCFilter{Memcmp: &rpc.RPCFilterMemcmp{Offset: f.Offset, Bytes: solana.Base58(f.Bytes)}})
	}
	return opts
}

// GetProgramData reads the ProgramData account of an upgradeable program.
func (c *Client) GetProgramData(ctx context.Context, program solana.PublicKey) (*loader.ProgramData, error) {
	acc, err := c.GetAccount(ctx, program)
	if err != nil {
		return nil, fmt.Errorf("get program data: %w", err)
	}
	if !acc.Owner.Equals(loader.ID) {
		return nil, fmt.Errorf("get program data: program %s is owned by %s, not the upgradeable loader", program, acc.Owner)
	}
	pdAddr, err := loader.ParseProgram(acc.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("get program data of %s: %w", program, err)
	}
	pdAcc, err := c.GetAccount(ctx, pdAddr)
	if err != nil {
		return nil, fmt.Errorf("get program data of %s: %w", program, err)
	}
	pd, err := loader.ParseProgramData(pdAcc.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("get program data of %s: %w", program, err)
	}
	return pd, nil
}

// GetBuffer reads a loader Buffer account.
func (c *Client) GetBuffer(ctx context.Context, buffer solana.PublicKey) (*loader.Buffer, error) {
	acc, err := c.GetAccount(ctx, buffer)
	if err != nil {
		return nil, fmt.Errorf("get buffer: %w", err)
	}
	if !acc.Owner.Equals(loader.ID) {
		return nil, fmt.Errorf("get buffer: %s is owned by %s, not the upgradeable loader", buffer, acc.Owner)
	}
	b, err := loader.ParseBuffer(acc.Data.GetBinary())
	if err != nil {
		return nil, fmt.Errorf("get buffer %s: %w", buffer, err)
	}
	return b, nil
}

// MinimumBalanceForRentExemption is the lamports an account of size bytes needs.
func (c *Client) MinimumBalanceForRentExemption(ctx context.Context, size uint64) (uint64, error) {
	var lamports uint64
	err := c.call(ctx, "getMinimumBalanceForRentExemption", func(ctx context.Context) (err error) {
		lamports, err = c.rpc.GetMinimumBalanceForRentExemption(ctx, size, c.commitment)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rent exemption for %d bytes: %w", size, err)
	}
	return lamports, nil
}
