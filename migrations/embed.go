// Package migrations holds the numbered SQL files that build the governance index and audit trail.
package migrations

import "embed"

// FS holds every migration, applied in file-name order by internal/store.
//
//go:embed *.sql
var FS embed.FS
