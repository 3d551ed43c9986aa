package chain

import (
	"context"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// WriteBuffer creates a loader Buffer (the address of buffer, which signs its creation),
// writes elf into it in transaction-sized chunks, and leaves authority as its authority.
// It is what `solana program write-buffer` does; the demo and tests use it.
func (c *Client) WriteBuffer(ctx context.Context, payer, authority, buffer *Keypair, elf []byte) error {
	size := uint64(loader.BufferMetadataLen + len(elf))
	lamports, err := c.MinimumBalanceForRentExemption(ctx, size)
	if err != nil {
		return fmt.Errorf("write buffer: %w", err)
	}
	create := loader.NewCreateBufferInstructions(payer.PublicKey(), buffer.PublicKey(), authority.PublicKey(), len(elf), lamports)
	if _, err := c.Send(ctx, create, payer, buffer); err != nil {
		return fmt.Errorf("write buffer %s: create: %w", buffer.PublicKey(), err)
	}
	for _, w := range loader.NewWriteInstructions(buffer.PublicKey(), authority.PublicKey(), elf, 0) {
		if _, err := c.Send(ctx, []solana.Instruction{w}, payer, authority); err != nil {
			return fmt.Errorf("write buffer %s: write at %d: %w", buffer.PublicKey(), w.Offset, err)
		}
	}
	return nil
}

// DeployProgram deploys elf as a new upgradeable program at program's address with room
// for maxDataLen ELF bytes (at least len(elf)); authority becomes its upgrade authority.
// It writes a buffer first, like `solana program deploy`.
func (c *Client) DeployProgram(ctx context.Context, payer, authority, program *Keypair, elf []byte, maxDataLen int) error {
	if maxDataLen < len(elf) {
		maxDataLen = len(elf)
	}
	buffer, err := NewKeypair()
	if err != nil {
		return fmt.Errorf("deploy program: %w", err)
	}
	if err := c.WriteBuffer(ctx, payer, authority, buffer, elf); err != nil {
		return fmt.Errorf("deploy program %s: %w", program.PublicKey(), err)
	}
	lamports, err := c.MinimumBalanceForRentExemption(ctx, loader.ProgramAccountLen)
	if err != nil {
		return fmt.Errorf("deploy program: %w", err)
	}
	deploy := loader.NewDeployInstructions(payer.PublicKey(), program.PublicKey(), buffer.PublicKey(), authority.PublicKey(), uint64(maxDataLen), lamports)
	if _, err := c.Send(ctx, deploy, payer, program, authority); err != nil {
		return fmt.Errorf("deploy program %s: %w", program.PublicKey(), err)
	}
	return nil
}

// ExtendProgramInstruction returns the loader instruction that grows program's ProgramData
// so it holds an ELF of elfLen bytes, paid by payer, or nil when it already fits.
// execute_upgrade refuses an ELF larger than the ProgramData (ProgramDataTooSmall). The
// instruction must land in an earlier slot than execute_upgrade: the loader refuses an upgrade
// in the slot of an extension ("Program was deployed in this block already"), and a program
// cannot extend by CPI. ExtendProgram needs no authority signature, so it works for a program
// governed by the PDA.
func (c *Client) ExtendProgramInstruction(ctx context.Context, payer, program solana.PublicKey, elfLen int) (*loader.ExtendProgram, error) {
	pd, err := c.GetProgramData(ctx, program)
	if err != nil {
		return nil, fmt.Errorf("extend program: %w", err)
	}
	add := loader.ExtendBytesFor(loader.ProgramDataMetadataLen+len(pd.ELF), elfLen)
	if add == 0 {
		return nil, nil
	}
	return loader.NewExtendProgramInstruction(program, payer, add), nil
}

// Extension is the ExtendProgram a program needs before an upgrade, and what it costs.
type Extension struct {
	Instruction *loader.ExtendProgram
	// RentLamports is the rent the payer adds: the rent-exempt minimum of the grown ProgramData
	// less that of its current size (an upper bound: the loader asks only what is missing).
	RentLamports uint64
}

// PlanExtension returns the ExtendProgram that lets program's ProgramData hold an ELF area of
// elfLen bytes, with its rent, or nil when it already fits.
func (c *Client) PlanExtension(ctx context.Context, payer, program solana.PublicKey, elfLen int) (*Extension, error) {
	pd, err := c.GetProgramData(ctx, program)
	if err != nil {
		return nil, fmt.Errorf("extend program: %w", err)
	}
	current := loader.ProgramDataMetadataLen + len(pd.ELF)
	add := loader.ExtendBytesFor(current, elfLen)
	if add == 0 {
		return nil, nil
	}
	before, err := c.MinimumBalanceForRentExemption(ctx, uint64(current))
	if err != nil {
		return nil, fmt.Errorf("extend program: %w", err)
	}
	after, err := c.MinimumBalanceForRentExemption(ctx, uint64(current)+uint64(add))
	if err != nil {
		return nil, fmt.Errorf("extend program: %w", err)
	}
	return &Extension{Instruction: loader.NewExtendProgramInstruction(program, payer, add), RentLamports: after - before}, nil
}

// SendExtension sends the planned ExtendProgram on its own and waits until the chain is past
// that slot, so an upgrade can follow.
func (c *Client) SendExtension(ctx context.Context, payer *Keypair, program solana.PublicKey, e *Extension) error {
	if _, err := c.Send(ctx, []solana.Instruction{e.Instruction}, payer); err != nil {
		return fmt.Errorf("extend program %s by %d bytes: %w", program, e.Instruction.AdditionalBytes, err)
	}
	if err := c.WaitNextSlot(ctx); err != nil {
		return fmt.Errorf("extend program %s: %w", program, err)
	}
	return nil
}

// ExtendProgramIfNeeded plans and sends the extension, and returns the bytes added (0 if the
// ELF already fits).
func (c *Client) ExtendProgramIfNeeded(ctx context.Context, payer *Keypair, program solana.PublicKey, elfLen int) (uint32, error) {
	e, err := c.PlanExtension(ctx, payer.PublicKey(), program, elfLen)
	if err != nil || e == nil {
		return 0, err
	}
	if err := c.SendExtension(ctx, payer, program, e); err != nil {
		return 0, err
	}
	return e.Instruction.AdditionalBytes, nil
}

// WaitNextSlot returns once the node is past the slot it is at now.
func (c *Client) WaitNextSlot(ctx context.Context) error {
	var start uint64
	if err := c.call(ctx, "getSlot", func(ctx context.Context) (err error) {
		start, err = c.rpc.GetSlot(ctx, c.commitment)
		return err
	}); err != nil {
		return fmt.Errorf("wait for next slot: %w", err)
	}
	for {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		var slot uint64
		if err := c.call(ctx, "getSlot", func(ctx context.Context) (err error) {
			slot, err = c.rpc.GetSlot(ctx, c.commitment)
			return err
		}); err != nil {
			return fmt.Errorf("wait for next slot: %w", err)
		}
		if slot > start {
			return nil
		}
	}
}
