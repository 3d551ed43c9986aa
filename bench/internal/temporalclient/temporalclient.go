// Package temporalclient dials the stack's Temporal frontend for the benchmarks and drills,
// with the SDK's own logging off so it does not interleave with their output.
package temporalclient

import (
	"fmt"

	"go.temporal.io/sdk/client"
)

// Dial connects to the Temporal frontend at address.
func Dial(address string) (client.Client, error) {
	c, err := client.Dial(client.Options{HostPort: address, Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", address, err)
	}
	return c, nil
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
