package governor

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// ConfigActionJSON is a ConfigAction as the API, the index and the CLI write it: the kind in
// snake case and only the fields the kind uses. Summary is output only (what the action does,
// in words).
type ConfigActionJSON struct {
	Kind      string `json:"kind"`
	Member    string `json:"member,omitempty"`
	Guardian  string `json:"guardian,omitempty"`
	Program   string `json:"program,omitempty"`
	Threshold *int   `json:"threshold,omitempty"`
	Seconds   *int64 `json:"seconds,omitempty"`
	// NewAuthority is set_program_authority's new upgrade authority; absent or null makes the
	// program immutable.
	NewAuthority *string `json:"new_authority,omitempty"`
	Summary      string  `json:"summary,omitempty"`
}

// ConfigActionKinds are the JSON kinds, in ConfigActionKind order.
var ConfigActionKinds = []string{
	"add_member", "remove_member", "set_threshold", "set_timelock", "set_proposal_lifetime",
	"set_grace", "set_guardian", "set_program_authority",
}

// JSON is the action's JSON form.
func (a ConfigAction) JSON() ConfigActionJSON {
	out := ConfigActionJSON{Summary: a.String()}
	if a.Kind.Valid() {
		out.Kind = ConfigActionKinds[a.Kind]
	} else {
		out.Kind = a.Kind.String()
	}
	switch a.Kind {
	case ConfigAddMember, ConfigRemoveMember:
		out.Member = a.Key.String()
	case ConfigSetGuardian:
		out.Guardian = a.Key.String()
	case ConfigSetThreshold:
		n := int(a.Value)
		out.Threshold = &n
	case ConfigSetTimelock, ConfigSetProposalLifetime, ConfigSetGrace:
		s := a.Value
		out.Seconds = &s
	case ConfigSetProgramAuthority:
		out.Program = a.Key.String()
		if a.NewAuthority != nil {
			s := a.NewAuthority.String()
			out.NewAuthority = &s
		}
	}
	return out
}

// ConfigActionsJSON is JSON of every action.
func ConfigActionsJSON(actions []ConfigAction) []ConfigActionJSON {
	out := make([]ConfigActionJSON, 0, len(actions))
	for _, a := range actions {
		out = append(out, a.JSON())
	}
	return out
}

// ConfigActionFieldError names the field of a JSON action that is wrong.
type ConfigActionFieldError struct {
	Field string // for example "kind", "member", "seconds"
	Msg   string
}

func (e *ConfigActionFieldError) Error() string { return e.Field + ": " + e.Msg }

// Action parses the JSON form: the kind must be known, the fields it uses present and valid,
// and no other field set (the program refuses an action with an unused field, and a request
// with a stray field is a mistake worth naming). Bounds the program checks against the
// multisig (threshold above members, timelock range) are checked by the program.
func (j ConfigActionJSON) Action() (ConfigAction, error) {
	kind := -1
	for i, k := range ConfigActionKinds {
		if k == j.Kind {
			kind = i
		}
	}
	if kind < 0 {
		return ConfigAction{}, &ConfigActionFieldError{"kind", fmt.Sprintf("%q is not one of %v", j.Kind, ConfigActionKinds)}
	}
	a := ConfigAction{Kind: ConfigActionKind(kind)}
	uses := map[string]bool{}
	key := func(field, v string) error {
		uses[field] = true
		if v == "" {
			return &ConfigActionFieldError{field, "is required for " + j.Kind}
		}
		k, err := solana.PublicKeyFromBase58(v)
		if err != nil {
			return &ConfigActionFieldError{field, fmt.Sprintf("%q is not a base58 public key", v)}
		}
		if k.IsZero() {
			return &ConfigActionFieldError{field, "must not be the all-zero key"}
		}
		a.Key = k
		return nil
	}
	var err error
	switch a.Kind {
	case ConfigAddMember, ConfigRemoveMember:
		err = key("member", j.Member)
	case ConfigSetGuardian:
		err = key("guardian", j.Guardian)
	case ConfigSetThreshold:
		uses["threshold"] = true
		switch {
		case j.Threshold == nil:
			err = &ConfigActionFieldError{"threshold", "is required for set_threshold"}
		case *j.Threshold < 1 || *j.Threshold > MaxMembers:
			err = &ConfigActionFieldError{"threshold", fmt.Sprintf("%d is outside 1..%d", *j.Threshold, MaxMembers)}
		default:
			a.Value = int64(*j.Threshold)
		}
	case ConfigSetTimelock, ConfigSetProposalLifetime, ConfigSetGrace:
		uses["seconds"] = true
		bounds := map[ConfigActionKind][2]int64{
			ConfigSetTimelock:         {MinTimelockSeconds, MaxTimelockSeconds},
			ConfigSetProposalLifetime: {1, MaxProposalLifetimeSeconds},
			ConfigSetGrace:            {MinGraceSeconds, MaxGraceSeconds},
		}[a.Kind]
		lo, hi := bounds[0], bounds[1]
		switch {
		case j.Seconds == nil:
			err = &ConfigActionFieldError{"seconds", "is required for " + j.Kind}
		case *j.Seconds < lo || *j.Seconds > hi:
			err = &ConfigActionFieldError{"seconds", fmt.Sprintf("%d is outside %d..%d", *j.Seconds, lo, hi)}
		default:
			a.Value = *j.Seconds
		}
	case ConfigSetProgramAuthority:
		uses["new_authority"] = true
		if err = key("program", j.Program); err == nil && j.NewAuthority != nil {
			k, perr := solana.PublicKeyFromBase58(*j.NewAuthority)
			if perr != nil || k.IsZero() {
				err = &ConfigActionFieldError{"new_authority", fmt.Sprintf("%q is not a base58 public key (leave it out or null to make the program immutable)", *j.NewAuthority)}
			} else {
				a.NewAuthority = &k
			}
		}
	}
	if err != nil {
		return ConfigAction{}, err
	}
	set := map[string]bool{
		"member": j.Member != "", "guardian": j.Guardian != "", "program": j.Program != "",
		"threshold": j.Threshold != nil, "seconds": j.Seconds != nil, "new_authority": j.NewAuthority != nil,
	}
	for _, f := range []string{"member", "guardian", "program", "threshold", "seconds", "new_authority"} {
		if set[f] && !uses[f] {
			return ConfigAction{}, &ConfigActionFieldError{f, "is not used by " + j.Kind}
		}
	}
	return a, nil
}
