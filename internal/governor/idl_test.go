package governor

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/gagliardetto/solana-go"
)

// The IDL is generated from the program's code (program/crates/idl-gen); this test holds the
// Go definitions to it, so neither side can drift: instruction discriminators, account order,
// names and flags, argument, account and event layouts, and every error code.
const idlPath = "../../program/idl/upgrade_governor.json"

type idlDoc struct {
	Address      string           `json:"address"`
	Instructions []idlInstruction `json:"instructions"`
	Accounts     []idlNamed       `json:"accounts"`
	Events       []idlNamed       `json:"events"`
	Errors       []idlError       `json:"errors"`
	Types        []idlTypeDef     `json:"types"`
}

type idlInstruction struct {
	Name          string       `json:"name"`
	Discriminator []int        `json:"discriminator"`
	Accounts      []idlAccount `json:"accounts"`
	Args          []idlField   `json:"args"`
}

type idlAccount struct {
	Name     string          `json:"name"`
	Writable bool            `json:"writable"`
	Signer   bool            `json:"signer"`
	Optional bool            `json:"optional"`
	Address  string          `json:"address"`
	Pda      *idlPda         `json:"pda"`
	Accounts json.RawMessage `json:"accounts"` // set only for a composite (nested) struct
}

type idlPda struct {
	Seeds []struct {
		Kind  string `json:"kind"`
		Value []int  `json:"value"`
		Path  string `json:"path"`
	} `json:"seeds"`
	Program json.RawMessage `json:"program"`
}

type idlNamed struct {
	Name          string `json:"name"`
	Discriminator []int  `json:"discriminator"`
}

type idlError struct {
	Code uint32 `json:"code"`
	Name string `json:"name"`
	Msg  string `json:"msg"`
}

type idlField struct {
	Name string `json:"name"`
	Type any    `json:"type"`
}

type idlTypeDef struct {
	Name string `json:"name"`
	Type struct {
		Kind     string     `json:"kind"`
		Fields   []idlField `json:"fields"`
		Variants []struct {
			Name   string          `json:"name"`
			Fields json.RawMessage `json:"fields"`
		} `json:"variants"`
	} `json:"type"`
}

func loadIDL(t *testing.T) *idlDoc {
	t.Helper()
	raw, err := os.ReadFile(idlPath)
	if err != nil {
		abs, _ := filepath.Abs(idlPath)
		t.Fatalf("read the program's IDL %s: %v\nIt is generated from the Rust code by program/crates/idl-gen "+
			"(cd program && cargo run -p idl-gen); commit it so this check can run.", abs, err)
	}
	var doc idlDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", idlPath, err)
	}
	return &doc
}

func ints(b []byte) []int {
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(x)
	}
	return out
}

// snake turns a Go field name into the Rust one: CreateKey -> create_key.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

var pubkeyType = reflect.TypeOf(solana.PublicKey{})

// idlType is the IDL spec 0.1.0 JSON (as encoding/json decodes it) of a Go type the Borsh
// codec encodes: the same mapping borsh.go implements.
func idlType(t reflect.Type) any {
	switch {
	case t == pubkeyType:
		return "pubkey"
	case t.PkgPath() != "" && (t.Kind() == reflect.Struct || t.Kind() == reflect.Uint8):
		return map[string]any{"defined": map[string]any{"name": t.Name()}}
	}
	switch t.Kind() {
	case reflect.Bool:
		return "bool"
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("u%d", t.Bits())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("i%d", t.Bits())
	case reflect.String:
		return "string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return map[string]any{"vec": idlType(t.Elem())}
	case reflect.Array:
		return map[string]any{"array": []any{idlType(t.Elem()), float64(t.Len())}}
	case reflect.Pointer:
		return map[string]any{"option": idlType(t.Elem())}
	}
	panic("no IDL type for " + t.String())
}

// goTypes are the Go definitions of every type the IDL defines.
var goTypes = func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, v := range []any{InitializeMultisigArgs{}, ProposeUpgradeArgs{}, MigrationPlan{}, Multisig{}, Proposal{}, ProposalStatus(0), PauseCooldown{}, GovernedProgram{},
		ProposalKind(0), ConfigActionKind(0), ConfigAction{}, ProposeConfigArgs{}} {
		m[reflect.TypeOf(v).Name()] = reflect.TypeOf(v)
	}
	for _, newEv := range eventTypes {
		t := reflect.TypeOf(newEv()).Elem()
		m[t.Name()] = t
	}
	return m
}()

func TestIDLMatchesGoDefinitions(t *testing.T) {
	doc := loadIDL(t)
	if doc.Address != ProgramID.String() {
		t.Errorf("IDL address %s, Go ProgramID %s", doc.Address, ProgramID)
	}
	t.Run("instructions", func(t *testing.T) { checkIDLInstructions(t, doc) })
	t.Run("types", func(t *testing.T) { checkIDLTypes(t, doc) })
	t.Run("accounts", func(t *testing.T) {
		want := map[string]Discriminator{"Multisig": MultisigDiscriminator, "Proposal": ProposalDiscriminator, "GovernedProgram": GovernedProgramDiscriminator}
		checkNamedDiscriminators(t, "account", doc.Accounts, want)
	})
	t.Run("events", func(t *testing.T) {
		want := map[string]Discriminator{}
		for _, newEv := range eventTypes {
			want[newEv().EventName()] = EventDiscriminator(newEv().EventName())
		}
		checkNamedDiscriminators(t, "event", doc.Events, want)
	})
	t.Run("errors", func(t *testing.T) {
		if len(doc.Errors) != len(governorErrors) {
			t.Errorf("IDL has %d errors, Go %d", len(doc.Errors), len(governorErrors))
		}
		for i, ie := range doc.Errors {
			ge, ok := ErrorFromCode(ie.Code)
			if !ok || ge.Name != ie.Name || ge.Msg != ie.Msg {
				t.Errorf("IDL error %d %s %q; Go %+v", ie.Code, ie.Name, ie.Msg, ge)
			}
			if i < len(governorErrors) && governorErrors[i].Code != ie.Code {
				t.Errorf("error %d: IDL code %d, Go %d", i, ie.Code, governorErrors[i].Code)
			}
		}
	})
}

func checkNamedDiscriminators(t *testing.T, kind string, got []idlNamed, want map[string]Discriminator) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("IDL has %d %ss, Go %d", len(got), kind, len(want))
	}
	for _, n := range got {
		d, ok := want[n.Name]
		if !ok {
			t.Errorf("IDL %s %s has no Go definition", kind, n.Name)
			continue
		}
		if !slices.Equal(n.Discriminator, ints(d[:])) {
			t.Errorf("%s %s: IDL discriminator %v, Go %v", kind, n.Name, n.Discriminator, ints(d[:]))
		}
	}
}

// pdaSeeds are the constant first seeds of the PDAs Go derives, by account name.
var pdaSeeds = map[string][]byte{
	"multisig":         MultisigSeed,
	"proposal":         ProposalSeed,
	"authority":        AuthoritySeed,
	"governed_program": GovernedProgramSeed,
	"migration_signer": MigrationSeed,
	"event_authority":  EventAuthoritySeed,
}

func checkIDLInstructions(t *testing.T, doc *idlDoc) {
	if len(doc.Instructions) != len(instructionTypes) {
		t.Errorf("IDL has %d instructions, Go %d", len(doc.Instructions), len(instructionTypes))
	}
	byName := map[string]Instruction{}
	for _, newIx := range instructionTypes {
		byName[newIx().Name()] = newIx()
	}
	for _, ii := range doc.Instructions {
		ix, ok := byName[ii.Name]
		if !ok {
			t.Errorf("IDL instruction %s has no Go type", ii.Name)
			continue
		}
		d := InstructionDiscriminator(ii.Name)
		if !slices.Equal(ii.Discriminator, ints(d[:])) {
			t.Errorf("%s: IDL discriminator %v, Go %v", ii.Name, ii.Discriminator, ints(d[:]))
		}
		l := ix.layout()
		var idlNames, goNames []string
		for _, a := range ii.Accounts {
			idlNames = append(idlNames, a.Name)
		}
		for _, s := range l.accounts {
			goNames = append(goNames, s.name)
		}
		if !slices.Equal(idlNames, goNames) {
			t.Errorf("%s: IDL accounts %v\n  Go accounts %v", ii.Name, idlNames, goNames)
			continue
		}
		for i, a := range ii.Accounts {
			s := l.accounts[i]
			if len(a.Accounts) > 0 || a.Optional {
				t.Errorf("%s.%s: composite or optional accounts are not modelled in Go", ii.Name, a.Name)
			}
			if a.Writable != s.writable || a.Signer != s.signer {
				t.Errorf("%s.%s: IDL writable=%v signer=%v, Go writable=%v signer=%v", ii.Name, a.Name, a.Writable, a.Signer, s.writable, s.signer)
			}
			if a.Address != "" && (s.key != nil || a.Address != s.fixed.String()) {
				t.Errorf("%s.%s: IDL fixes the address %s; Go slot fixed=%v %s", ii.Name, a.Name, a.Address, s.key == nil, s.fixed)
			}
			// The IDL builder leaves #[event_cpi]'s two accounts unconstrained; Go knows them.
			eventCPI := a.Name == "event_authority" || a.Name == "program"
			if s.key == nil && a.Address == "" && a.Pda == nil && !eventCPI {
				t.Errorf("%s.%s: Go fixes the address %s, the IDL does not", ii.Name, a.Name, s.fixed)
			}
			if a.Pda != nil && len(a.Pda.Program) == 0 {
				want, known := pdaSeeds[a.Name]
				if !known || len(a.Pda.Seeds) == 0 || a.Pda.Seeds[0].Kind != "const" || !slices.Equal(a.Pda.Seeds[0].Value, ints(want)) {
					t.Errorf("%s.%s: IDL PDA seeds %+v; Go seed %q", ii.Name, a.Name, a.Pda.Seeds, want)
				}
			}
		}
		if l.args == nil {
			if len(ii.Args) != 0 {
				t.Errorf("%s: IDL args %+v, Go takes none", ii.Name, ii.Args)
			}
			continue
		}
		argType := reflect.TypeOf(l.args).Elem()
		want := []idlField{{Name: "args", Type: idlType(argType)}}
		if !reflect.DeepEqual(ii.Args, want) {
			t.Errorf("%s: IDL args %+v, Go %+v", ii.Name, ii.Args, want)
		}
	}
}

func checkIDLTypes(t *testing.T, doc *idlDoc) {
	seen := map[string]bool{}
	for _, td := range doc.Types {
		gt, ok := goTypes[td.Name]
		if !ok {
			t.Errorf("IDL type %s has no Go definition", td.Name)
			continue
		}
		seen[td.Name] = true
		switch td.Type.Kind {
		case "struct":
			var goFields []idlField
			for i := 0; i < gt.NumField(); i++ {
				f := gt.Field(i)
				goFields = append(goFields, idlField{Name: snake(f.Name), Type: idlType(f.Type)})
			}
			if len(td.Type.Fields) != len(goFields) {
				t.Errorf("type %s: IDL has %d fields, Go %d", td.Name, len(td.Type.Fields), len(goFields))
			}
			for i := range min(len(td.Type.Fields), len(goFields)) {
				if !reflect.DeepEqual(td.Type.Fields[i], goFields[i]) {
					t.Errorf("type %s field %d: IDL %s %v, Go %s %v", td.Name, i,
						td.Type.Fields[i].Name, td.Type.Fields[i].Type, goFields[i].Name, goFields[i].Type)
				}
			}
		case "enum":
			var names []string
			for _, v := range td.Type.Variants {
				if len(v.Fields) > 0 {
					t.Errorf("enum %s variant %s has fields; Go models a fieldless enum", td.Name, v.Name)
				}
				names = append(names, v.Name)
			}
			// Each Go enum names its variants in order, as the Rust enum declares them.
			goNames := map[reflect.Type][]string{
				reflect.TypeOf(ProposalStatus(0)):   proposalStatusNames[:],
				reflect.TypeOf(ProposalKind(0)):     proposalKindNames[:],
				reflect.TypeOf(ConfigActionKind(0)): configActionKindNames[:],
			}[gt]
			if goNames == nil || !slices.Equal(names, goNames) {
				t.Errorf("enum %s: IDL variants %v, Go %v", td.Name, names, goNames)
			}
		default:
			t.Errorf("type %s: kind %q not modelled in Go", td.Name, td.Type.Kind)
		}
	}
	for name := range goTypes {
		if !seen[name] {
			t.Errorf("Go type %s is not in the IDL", name)
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"CreateKey": "create_key", "Eta": "eta", "ByGuardian": "by_guardian", "At": "at"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
