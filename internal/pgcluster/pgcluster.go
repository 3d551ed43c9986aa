// Package pgcluster starts a private, throw-away PostgreSQL cluster from the server binaries
// installed on the machine (Debian's /usr/lib/postgresql/<version>/bin).
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDirEnv names a directory holding initdb and postgres, overriding the search.
const BinDirEnv = "PG_BIN_DIR"

// socketPathMax is the longest unix socket path Linux accepts (sun_path is 108 bytes).
const socketPathMax = 107

// Start initialises a cluster in dir (which must exist; its data goes to dir/data, its socket
// and log to dir) and runs it on a free port of 127.0.0.1, with durability switched off for
// speed. It returns a superuser URL of the "postgres" database and a stop function that shuts
// the server down and waits for it. Removing dir is the caller's business.
//
// PostgreSQL refuses to run as root; when the process is root the server runs as the "postgres"
// user (like `runuser -u postgres`), and dir is handed to that user.
func Start(ctx context.Context, dir string) (url string, stop func() error, err error) {
	bin, err := BinDir()
	if err != nil {
		return "", nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	cred, err := serverCredential(dir)
	if err != nil {
		return "", nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Env = serverEnv()
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("pgcluster: initdb in %s: %w\n%s", data, err, out)
	}
	// A free port can be taken between our probe and the server's bind: try a few.
	for attempt := 0; ; attempt++ {
		url, stop, err = run(ctx, bin, dir, data, cred)
		if err == nil || attempt == 4 || !errors.Is(err, errPortTaken) {
			return url, stop, err
		}
	}
}

// BinDir finds the directory of initdb and postgres: $PG_BIN_DIR, else the newest
// /usr/lib/postgresql/<version>/bin, else initdb's directory on PATH.
func BinDir() (string, error) {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("pgcluster: no PostgreSQL server binaries (initdb) found: install them " +
		"(apt-get install -y postgresql) or set " + BinDirEnv)
}

// pgVersion reads the version out of /usr/lib/postgresql/<version>/bin/initdb.
func pgVersion(initdb string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(initdb))), 64)
	return v
}

// serverCredential returns nil when the server can run as ourselves, or the postgres user's
// credential when we are root, after giving dir to that user.
func serverCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, and PostgreSQL refuses root; "+
			"no postgres user to run it as: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	err = filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(uid), int(gid))
	})
	if err != nil {
		return nil, fmt.Errorf("pgcluster: give %s to the postgres user: %w", dir, err)
	}
	// Every parent must let the postgres user through, or initdb fails with a puzzling message.
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return nil, fmt.Errorf("pgcluster: %s is not searchable by the postgres user; use a directory under /tmp", p)
		}
		if p == "/" {
			break
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// serverEnv keeps libpq variables of the test environment away from the server tools.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

var errPortTaken = errors.New("port taken")

func run(ctx context.Context, bin, dir, data string, cred *syscall.Credential) (string, func() error, error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	if sock := filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port)); len(sock) > socketPathMax {
		return "", nil, fmt.Errorf("pgcluster: socket path %s is longer than %d bytes; use a shorter dir", sock, socketPathMax)
	}
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return "", nil, err
	}
	defer logFile.Close() // the child has its own descriptor

	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		// A throw-away cluster: losing it on a crash is fine, waiting for fsync is not.
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// If this process dies without stopping the server, the kernel stops it (immediate
		// shutdown), so no orphaned postmaster keeps the port.
		Pdeathsig: syscall.SIGQUIT,
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			// SIGINT is PostgreSQL's fast shutdown: disconnect clients, stop cleanly.
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				stopErr = errors.New("pgcluster: postgres did not stop within 30s; killed")
			}
		})
		return stopErr
	}

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := waitReady(ctx, url, exited); err != nil {
		_ = stop()
		logTail := tail(logPath, 2000)
		if strings.Contains(logTail, "could not bind") || strings.Contains(logTail, "Address already in use") {
			return "", nil, fmt.Errorf("%w: %d", errPortTaken, port)
		}
		if waitErr != nil {
			err = fmt.Errorf("%w (postgres: %v)", err, waitErr)
		}
		return "", nil, fmt.Errorf("pgcluster: %w\n%s", err, logTail)
	}
	return url, stop, nil
}

func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, url)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-exited:
			return errors.New("postgres exited during start-up")
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
