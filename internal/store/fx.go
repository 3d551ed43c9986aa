package store

import (
	"context"

	"go.uber.org/fx"

	"github.com/upgrade-governor/upgrade-governor/internal/config"
)

// Module provides the *Store to an fx application: it checks the database at start and closes
// the pool at stop. Migrations are not run here; a binary decides when to call Migrate.
var Module = fx.Module("store", fx.Provide(provide))

func provide(lc fx.Lifecycle, cfg config.Config) (*Store, error) {
	s, err := open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: s.Ping,
		OnStop: func(context.Context) error {
			s.Close()
			return nil
		},
	})
	return s, nil
}
