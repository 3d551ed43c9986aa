package indexer

import (
	"testing"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// Every event the program emits belongs to a multisig the indexer can name: an event type it
// does not know would be dropped from the audit trail without a word (cancel, pause and resume
// votes were, until this test).
func TestEveryProgramEventIsAttributedToItsMultisig(t *testing.T) {
	for _, ev := range governor.AllEvents() {
		if _, ok := eventMultisig(ev); !ok {
			t.Errorf("%s is not attributed to a multisig: the indexer would drop it", ev.EventName())
		}
	}
}
