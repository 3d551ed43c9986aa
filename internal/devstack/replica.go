package devstack

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// StartAPIReplica starts one more API server process, called name (its log is <name>.log in
// the stack's dir), on a free port against the same PostgreSQL, Temporal and chain as the
// stack's own API server, and waits until it is ready: two replicas behind a load balancer,
// as a deployment runs them. It returns the replica's base URL. StopAPIReplica ends it; Stop
// ends it with the rest of the stack otherwise.
func (s *Stack) StartAPIReplica(ctx context.Context, name string) (string, error) {
	switch name {
	case "", "apiserver", "worker", "localnet", "temporal", "postgres":
		return "", fmt.Errorf("devstack: %q cannot name an API replica", name)
	}
	s.mu.Lock()
	p, taken := s.procs[name]
	s.mu.Unlock()
	if taken && exited(p) == nil {
		return "", fmt.Errorf("devstack: %s is already running", name)
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, err = s.start(ctx, name, s.bin("apiserver"), nil, s.env(fmt.Sprintf("127.0.0.1:%d", port)))
	if err != nil {
		return "", err
	}
	if !taken {
		// Stop knows the stack's own parts by name; a replica is stopped by this hook,
		// which runs before PostgreSQL's.
		s.stops = append(s.stops, func() error { return s.StopAPIReplica(name) })
	}
	if err := waitHTTP(ctx, url+"/readyz", 60*time.Second, p); err != nil {
		_ = s.StopAPIReplica(name)
		return "", fmt.Errorf("devstack: API replica %s not ready: %w\n%s", name, err, tail(p.Log, 20))
	}
	s.logf("%-10s %s (API replica)", name, url)
	return url, nil
}

// StopAPIReplica ends a replica started by StartAPIReplica: SIGTERM, then SIGKILL after 10 s.
// A replica that has already exited is no error.
func (s *Stack) StopAPIReplica(name string) error {
	p, err := s.proc(name)
	if err != nil {
		return err
	}
	if exited(p) != nil {
		return nil
	}
	if err := syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("devstack: stop %s: %w", name, err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	return nil
}
