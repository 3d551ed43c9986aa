package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// The fault drills (bench/cmd/faults) crash, restart and freeze parts of a running stack.

// PID returns the process id of a running part.
func (s *Stack) PID(name string) (int, error) {
	p, err := s.proc(name)
	if err != nil {
		return 0, err
	}
	if perr := exited(p); perr != nil {
		return 0, fmt.Errorf("devstack: %w", perr)
	}
	return p.Cmd.Process.Pid, nil
}

// Pause freezes a part with SIGSTOP (its whole process group): a node that hangs, with its
// sockets open, rather than one that is gone.
func (s *Stack) Pause(name string) error { return s.signal(name, syscall.SIGSTOP) }

// Resume lets a paused part run again (SIGCONT).
func (s *Stack) Resume(name string) error { return s.signal(name, syscall.SIGCONT) }

func (s *Stack) signal(name string, sig syscall.Signal) error {
	p, err := s.proc(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(-p.Cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("devstack: %s to %s: %w", sig, name, err)
	}
	return nil
}

func (s *Stack) proc(name string) (*Proc, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.procs[name]
	if p == nil {
		return nil, fmt.Errorf("devstack: no process %s", name)
	}
	return p, nil
}

// Restart stops a part started here (SIGTERM, SIGKILL after 10 s), starts it again with the
// same command, and waits until it serves. The Temporal dev server keeps its state in its
// --db-filename; localnet keeps none (a restarted chain is a new chain).
func (s *Stack) Restart(ctx context.Context, name string) error {
	p, err := s.proc(name)
	if err != nil {
		return err
	}
	if exited(p) == nil {
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	np, err := s.start(ctx, name, p.Cmd.Path, p.Cmd.Args[1:], p.Cmd.Env)
	if err != nil {
		return err
	}
	switch name {
	case "temporal":
		err = waitTCP(ctx, s.TemporalAddress, 60*time.Second, np)
	case "localnet":
		err = waitRPC(ctx, s.RPCURL, 60*time.Second, np)
	case "apiserver":
		err = waitHTTP(ctx, s.APIURL+"/readyz", 60*time.Second, np)
	}
	if err != nil {
		return fmt.Errorf("devstack: %s after restart: %w\n%s", name, err, tail(np.Log, 20))
	}
	s.logf("%-10s restarted", name)
	return nil
}

// RestartPostgres shuts the private PostgreSQL cluster down cleanly (fast shutdown: clients
// are disconnected) and starts it again on the same data directory and port, with the options
// it ran with (its postmaster.opts). Clients see their connections drop and must reconnect.
func (s *Stack) RestartPostgres(ctx context.Context) error {
	if s.opts.DatabaseURL != "" {
		return errors.New("devstack: PostgreSQL was not started here")
	}
	dir := filepath.Join(s.opts.Dir, "postgres")
	data := filepath.Join(dir, "data")
	args, err := postmasterArgs(filepath.Join(data, "postmaster.opts"))
	if err != nil {
		return err
	}
	pidFile := filepath.Join(data, "postmaster.pid")
	pid, err := postmasterPID(pidFile)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("devstack: stop postgres (pid %d): %w", pid, err)
	}
	// A clean shutdown removes postmaster.pid last.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(pidFile); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devstack: postgres (pid %d) still running 30 s after a fast shutdown", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}

	st, err := os.Stat(data)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("devstack: postgres log: %w", err)
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	// PostgreSQL refuses root; it runs as the owner of its data directory.
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: sys.Uid, Gid: sys.Gid, Groups: []uint32{}}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("devstack: restart postgres: %w", err)
	}
	exitedCh := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exitedCh) }()
	s.mu.Lock()
	s.stops = append(s.stops, func() error {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exitedCh:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exitedCh
		}
		return nil
	})
	s.mu.Unlock()

	deadline = time.Now().Add(60 * time.Second)
	for {
		conn, err := pgx.Connect(ctx, s.DatabaseURL)
		if err == nil {
			_ = conn.Close(ctx)
			s.logf("postgres   restarted")
			return nil
		}
		select {
		case <-exitedCh:
			return fmt.Errorf("devstack: postgres exited during restart\n%s", tail(filepath.Join(dir, "postgres.log"), 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devstack: postgres not ready 60 s after restart: %w", err)
		}
	}
}

// postmasterArgs reads the command line PostgreSQL recorded at start:
// /usr/lib/postgresql/15/bin/postgres "-D" "/tmp/x/data" "-p" "5432" ...
func postmasterArgs(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	line := strings.TrimSpace(string(raw))
	var args []string
	for line != "" {
		if line[0] == '"' {
			end := strings.IndexByte(line[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("devstack: %s: unterminated quote", path)
			}
			args = append(args, line[1:1+end])
			line = strings.TrimSpace(line[2+end:])
			continue
		}
		end := strings.IndexByte(line, ' ')
		if end < 0 {
			end = len(line)
		}
		args = append(args, line[:end])
		line = strings.TrimSpace(line[end:])
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("devstack: %s is empty", path)
	}
	return args, nil
}

func postmasterPID(path string) (int, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("devstack: postgres is not running: %w", err)
	}
	first, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("devstack: %s: %w", path, err)
	}
	return pid, nil
}
