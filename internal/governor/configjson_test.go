package governor

import (
	"errors"
	"reflect"
	"testing"
)

func TestConfigActionJSONRoundTrips(t *testing.T) {
	next := key("next")
	for _, a := range []ConfigAction{
		AddMember(key("a")), RemoveMember(key("b")), SetThreshold(3), SetTimelock(7200),
		SetProposalLifetime(86400), SetGrace(3600), SetGuardian(key("g")),
		SetProgramAuthority(key("p"), &next), SetProgramAuthority(key("p"), nil),
	} {
		j := a.JSON()
		if j.Summary == "" {
			t.Errorf("%v: no summary", a)
		}
		got, err := j.Action()
		if err != nil {
			t.Fatalf("%v: %v", a, err)
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("round trip of %v gave %v", a, got)
		}
	}
}

func TestConfigActionJSONNamesTheBadField(t *testing.T) {
	n, big, s := 0, 17, int64(60)
	bad := "not-a-key"
	for _, c := range []struct {
		j     ConfigActionJSON
		field string
	}{
		{ConfigActionJSON{Kind: "promote"}, "kind"},
		{ConfigActionJSON{Kind: "add_member"}, "member"},
		{ConfigActionJSON{Kind: "add_member", Member: bad}, "member"},
		{ConfigActionJSON{Kind: "add_member", Member: "11111111111111111111111111111111"}, "member"},
		{ConfigActionJSON{Kind: "add_member", Member: key("a").String(), Seconds: &s}, "seconds"},
		{ConfigActionJSON{Kind: "set_threshold"}, "threshold"},
		{ConfigActionJSON{Kind: "set_threshold", Threshold: &n}, "threshold"},
		{ConfigActionJSON{Kind: "set_threshold", Threshold: &big}, "threshold"},
		{ConfigActionJSON{Kind: "set_timelock", Seconds: &s}, "seconds"},
		{ConfigActionJSON{Kind: "set_grace"}, "seconds"},
		{ConfigActionJSON{Kind: "set_guardian", Member: key("a").String()}, "guardian"},
		{ConfigActionJSON{Kind: "set_program_authority", NewAuthority: &bad}, "program"},
		{ConfigActionJSON{Kind: "set_program_authority", Program: key("p").String(), NewAuthority: &bad}, "new_authority"},
	} {
		_, err := c.j.Action()
		var fe *ConfigActionFieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("%+v: error %v, want one naming %q", c.j, err, c.field)
		}
	}
}
