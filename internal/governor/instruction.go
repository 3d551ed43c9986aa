package governor

import (
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// Instruction is one of the program's eight instructions, built by a New...Instruction
// constructor or returned by DecodeInstruction. Its concrete type (*ApproveUpgrade, ...)
// carries the named accounts and the arguments.
type Instruction interface {
	solana.Instruction
	// Name is the instruction's name in the program and the IDL (snake_case).
	Name() string
	// Validate reports the first account that is not set, or an argument the program would
	// refuse for its shape.
	Validate() error
	layout() layout
}

// accountSlot is one account of an instruction's Accounts struct, in the struct's order.
type accountSlot struct {
	name     string
	key      *solana.PublicKey // nil for an account with a fixed address
	fixed    solana.PublicKey
	writable bool
	signer   bool
}

// remainingAccounts are the accounts after the Accounts struct's (ctx.remaining_accounts).
type remainingAccounts struct {
	name     string
	keys     *[]solana.PublicKey
	writable bool
	signer   bool
	min, max int
	// writableAt, when set, says which of keys are writable (a list of mixed accounts); the
	// decoder then requires no flag of them.
	writableAt func(keys []solana.PublicKey, i int) bool
}

// layout is everything about an instruction's wire form: its accounts in order, its
// arguments and its remaining accounts. Each instruction defines it once; Accounts, Data,
// Validate and DecodeInstruction all read it.
type layout struct {
	accounts  []accountSlot
	args      any // pointer to the Borsh args struct; nil when the instruction takes none
	remaining *remainingAccounts
}

func fixedSlot(name string, key solana.PublicKey) accountSlot {
	return accountSlot{name: name, fixed: key}
}

// eventCPISlots are the two accounts #[event_cpi] appends to every Accounts struct.
func eventCPISlots() []accountSlot {
	return []accountSlot{fixedSlot("event_authority", eventAuthority), fixedSlot("program", ProgramID)}
}

func (s accountSlot) address() solana.PublicKey {
	if s.key == nil {
		return s.fixed
	}
	return *s.key
}

func accountMetas(l layout) []*solana.AccountMeta {
	out := make([]*solana.AccountMeta, 0, len(l.accounts))
	for _, s := range l.accounts {
		out = append(out, solana.NewAccountMeta(s.address(), s.writable, s.signer))
	}
	if r := l.remaining; r != nil {
		for i, k := range *r.keys {
			writable := r.writable
			if r.writableAt != nil {
				writable = r.writableAt(*r.keys, i)
			}
			out = append(out, solana.NewAccountMeta(k, writable, r.signer))
		}
	}
	return out
}

func instructionData(name string, l layout) ([]byte, error) {
	d := InstructionDiscriminator(name)
	data := append([]byte{}, d[:]...)
	if l.args == nil {
		return data, nil
	}
	data, err := borshMarshal(data, l.args)
	if err != nil {
		return nil, fmt.Errorf("encode %s args: %w", name, err)
	}
	return data, nil
}

func validateLayout(name string, l layout) error {
	for _, s := range l.accounts {
		// Fixed accounts are never checked: the system program's address is all zeros.
		if s.key != nil && s.key.IsZero() {
			return fmt.Errorf("%s: account %s is not set", name, s.name)
		}
	}
	if r := l.remaining; r != nil {
		n := len(*r.keys)
		if n < r.min || n > r.max {
			return fmt.Errorf("%s: %d %s, want %d to %d", name, n, r.name, r.min, r.max)
		}
		for i, k := range *r.keys {
			if k.IsZero() {
				return fmt.Errorf("%s: %s[%d] is not set", name, r.name, i)
			}
		}
	}
	return nil
}

// instructionTypes lists every instruction once; DecodeInstruction finds them by
// discriminator.
var instructionTypes = []func() Instruction{
	func() Instruction { return new(InitializeMultisig) },
	func() Instruction { return new(ProposeUpgrade) },
	func() Instruction { return new(ApproveUpgrade) },
	func() Instruction { return new(ExecuteUpgrade) },
	func() Instruction { return new(CancelUpgrade) },
	func() Instruction { return new(MigrateAccount) },
	func() Instruction { return new(PauseSystem) },
	func() Instruction { return new(ResumeSystem) },
	func() Instruction { return new(ProposeConfig) },
	func() Instruction { return new(ExecuteConfig) },
}

var instructionsByDiscriminator = func() map[Discriminator]func() Instruction {
	m := make(map[Discriminator]func() Instruction, len(instructionTypes))
	for _, newIx := range instructionTypes {
		m[InstructionDiscriminator(newIx().Name())] = newIx
	}
	return m
}()

// Errors DecodeInstruction wraps, so callers can tell "not ours" from "ours but malformed".
var (
	ErrNotGovernorProgram = errors.New("instruction is not for the governor program")
	ErrUnknownInstruction = errors.New("unknown governor instruction")
	ErrMalformed          = errors.New("malformed governor instruction")
)

// DecodeInstruction decodes one instruction of a transaction: programID is the program it
// invokes, accounts its account metas in order (with the transaction's signer and writable
// flags, see DecodeTransaction), data its data. It returns the typed instruction
// (*ApproveUpgrade, ...). It is strict, because the API server uses it to vet member-signed
// transactions: accounts the program needs to sign or write must be marked so, the event-CPI
// accounts must be the right ones, no extra accounts and no trailing data bytes are allowed.
func DecodeInstruction(programID solana.PublicKey, accounts []*solana.AccountMeta, data []byte) (Instruction, error) {
	if !programID.Equals(ProgramID) {
		return nil, fmt.Errorf("%w: program %s", ErrNotGovernorProgram, programID)
	}
	if len(data) < len(Discriminator{}) {
		return nil, fmt.Errorf("%w: %d data bytes, no discriminator", ErrMalformed, len(data))
	}
	newIx, ok := instructionsByDiscriminator[Discriminator(data[:8])]
	if !ok {
		return nil, fmt.Errorf("%w: discriminator %x", ErrUnknownInstruction, data[:8])
	}
	ix := newIx()
	name := ix.Name()
	l := ix.layout()

	if len(accounts) < len(l.accounts) {
		return nil, fmt.Errorf("%w: %s has %d accounts, needs %d", ErrMalformed, name, len(accounts), len(l.accounts))
	}
	for i, s := range l.accounts {
		m := accounts[i]
		if m == nil {
			return nil, fmt.Errorf("%w: %s account %d (%s) is nil", ErrMalformed, name, i, s.name)
		}
		if err := checkFlags(name, s.name, m, s.writable, s.signer); err != nil {
			return nil, err
		}
		if s.key == nil {
			if !m.PublicKey.Equals(s.fixed) {
				return nil, fmt.Errorf("%w: %s account %s is %s, want %s", ErrMalformed, name, s.name, m.PublicKey, s.fixed)
			}
			continue
		}
		*s.key = m.PublicKey
	}
	rest := accounts[len(l.accounts):]
	if r := l.remaining; r != nil {
		keys := make([]solana.PublicKey, 0, len(rest))
		for i, m := range rest {
			if m == nil {
				return nil, fmt.Errorf("%w: %s %s[%d] is nil", ErrMalformed, name, r.name, i)
			}
			if err := checkFlags(name, fmt.Sprintf("%s[%d]", r.name, i), m, r.writable, r.signer); err != nil {
				return nil, err
			}
			keys = append(keys, m.PublicKey)
		}
		*r.keys = keys
	} else if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %s takes %d accounts, got %d", ErrMalformed, name, len(l.accounts), len(accounts))
	}

	if l.args == nil {
		if len(data) != 8 {
			return nil, fmt.Errorf("%w: %s takes no arguments, got %d bytes", ErrMalformed, name, len(data)-8)
		}
		return ix, nil
	}
	n, err := borshUnmarshal(data[8:], l.args)
	if err != nil {
		return nil, fmt.Errorf("%w: %s args: %v", ErrMalformed, name, err)
	}
	if n != len(data)-8 {
		return nil, fmt.Errorf("%w: %s args: %d trailing bytes", ErrMalformed, name, len(data)-8-n)
	}
	return ix, nil
}

func checkFlags(ixName, account string, m *solana.AccountMeta, writable, signer bool) error {
	if writable && !m.IsWritable {
		return fmt.Errorf("%w: %s account %s must be writable", ErrMalformed, ixName, account)
	}
	if signer && !m.IsSigner {
		return fmt.Errorf("%w: %s account %s must sign", ErrMalformed, ixName, account)
	}
	return nil
}

// TransactionInstruction is a governor instruction found in a transaction.
type TransactionInstruction struct {
	// Index of the instruction in the transaction's message.
	Index int
	Instruction
}

// DecodeTransaction decodes every instruction of tx that invokes the governor and skips the
// others (compute budget and the like). An instruction for the governor that does not decode
// is an error: a transaction we vet must contain nothing we cannot read.
func DecodeTransaction(tx *solana.Transaction) ([]TransactionInstruction, error) {
	var out []TransactionInstruction
	for i, ci := range tx.Message.Instructions {
		programID, err := tx.Message.Program(ci.ProgramIDIndex)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", i, err)
		}
		if !programID.Equals(ProgramID) {
			continue
		}
		metas, err := ci.ResolveInstructionAccounts(&tx.Message)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: resolve accounts: %w", i, err)
		}
		ix, err := DecodeInstruction(programID, metas, ci.Data)
		if err != nil {
			return nil, fmt.Errorf("instruction %d: %w", i, err)
		}
		out = append(out, TransactionInstruction{Index: i, Instruction: ix})
	}
	return out, nil
}
