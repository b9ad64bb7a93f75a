// Package pgcluster runs a private PostgreSQL cluster from the installed server binaries:
// the embedded default database of `gridmap serve` and the throwaway clusters of the tests.
// The cluster listens on a Unix socket in its own directory only (no TCP port), and runs as
// the postgres user when the caller is root, since initdb refuses to run as root.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrNoPostgres says the PostgreSQL server binaries are not installed.
var ErrNoPostgres = errors.New("pgcluster: PostgreSQL server binaries not found (install postgresql-15: apt-get install postgresql-15)")

// Options tune a cluster.
type Options struct {
	// BinDir holds initdb and pg_ctl; empty means FindBinDir.
	BinDir string
	// Throwaway trades durability for speed (no fsync, no synchronous commit): for tests.
	Throwaway bool
}

// Cluster is one PostgreSQL cluster under Dir: Dir/pgdata holds the data, Dir/run the socket
// and Dir/postgres.log the server log.
type Cluster struct {
	dir    string
	binDir string
	opts   Options
	runAs  *user.User // nil: run as ourselves

	// Opened lists the parent directories given search permission so that the postgres
	// user can reach the cluster (see openPath); the caller should say so.
	Opened []string
}

// New prepares a cluster under dir (created if missing). It does not start anything.
func New(dir string, opts Options) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: data directory %q: %w", dir, err)
	}
	bin := opts.BinDir
	if bin == "" {
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	c := &Cluster{dir: abs, binDir: bin, opts: opts}
	if sock := filepath.Join(c.SocketDir(), ".s.PGSQL.5432"); len(sock) > 100 {
		return nil, fmt.Errorf("pgcluster: data directory %q is too deep for a Unix socket path (%d > 100 bytes); choose a shorter GRIDMAP_DATA", abs, len(sock))
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgcluster: running as root needs a postgres user (installed with the postgresql package): %w", err)
		}
		c.runAs = u
	}
	return c, nil
}

// FindBinDir returns the newest /usr/lib/postgresql/N/bin that has initdb and pg_ctl, or the
// directory of initdb on PATH.
func FindBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		d := filepath.Dir(p)
		if isFile(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Dir is the cluster's top directory.
func (c *Cluster) Dir() string { return c.dir }

// DataDir is PGDATA.
func (c *Cluster) DataDir() string { return filepath.Join(c.dir, "pgdata") }

// SocketDir is where the server's Unix socket lives.
func (c *Cluster) SocketDir() string { return filepath.Join(c.dir, "run") }

// LogFile is the server log.
func (c *Cluster) LogFile() string { return filepath.Join(c.dir, "postgres.log") }

// DSN returns a libpq connection string for database db over the Unix socket.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("host=%s user=postgres dbname=%s sslmode=disable", c.SocketDir(), db)
}

// Initialized reports whether the data directory already holds a cluster.
func (c *Cluster) Initialized() bool {
	return isFile(filepath.Join(c.DataDir(), "PG_VERSION"))
}

// Init creates the cluster unless it exists; created says whether it did.
func (c *Cluster) Init(ctx context.Context) (created bool, err error) {
	if err := c.prepareDirs(); err != nil {
		return false, err
	}
	if c.Initialized() {
		return false, nil
	}
	args := []string{"-D", c.DataDir(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"}
	if c.opts.Throwaway {
		args = append(args, "--no-sync")
	}
	if _, err := c.run(ctx, "initdb", args...); err != nil {
		return false, fmt.Errorf("pgcluster: initdb in %s: %w", c.DataDir(), err)
	}
	return true, nil
}

func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(filepath.Dir(c.dir), 0o755); err != nil {
		return fmt.Errorf("pgcluster: create %s: %w", filepath.Dir(c.dir), err)
	}
	for _, d := range []string{c.dir, c.SocketDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: create %s: %w", d, err)
		}
	}
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	err := filepath.Walk(c.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("pgcluster: hand %s to the postgres user: %w", c.dir, err)
	}
	return c.openPath()
}

// openPath lets the postgres user traverse the parents of the cluster directory (a clone
// under /root, mode 0700, is the usual case): each closed parent gets search permission
// (x, not read) for postgres alone through an ACL, or for others where ACLs are missing.
// Opened records what was changed.
func (c *Cluster) openPath() error {
	var closed []string
	for d := filepath.Dir(c.dir); ; d = filepath.Dir(d) {
		if _, err := c.run(context.Background(), "/usr/bin/test", "-x", d); err != nil {
			closed = append(closed, d)
		}
		if d == "/" {
			break
		}
	}
	for i := len(closed) - 1; i >= 0; i-- {
		d := closed[i]
		if exec.Command("setfacl", "-m", "u:"+c.runAs.Username+":x", d).Run() == nil {
			c.Opened = append(c.Opened, d+" (acl u:postgres:x)")
			continue
		}
		st, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := os.Chmod(d, st.Mode().Perm()|0o001); err != nil {
			return fmt.Errorf("pgcluster: the postgres user cannot reach %s: %w; set GRIDMAP_DATA to a directory under /var/lib or /tmp", c.dir, err)
		}
		c.Opened = append(c.Opened, d+" (o+x)")
	}
	return nil
}

// Start starts the server and waits until it accepts connections. A server already running
// on this data directory is an error from pg_ctl.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.prepareDirs(); err != nil {
		return err
	}
	opts := []string{
		"-c listen_addresses=''",
		"-k " + c.SocketDir(),
		"-c unix_socket_permissions=0770",
		"-c max_connections=200",
	}
	if c.opts.Throwaway {
		opts = append(opts, "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")
	}
	_, err := c.run(ctx, "pg_ctl", "-D", c.DataDir(), "-l", c.LogFile(), "-w", "-t", "60",
		"-o", strings.Join(opts, " "), "start")
	if err != nil {
		return fmt.Errorf("pgcluster: start (log: %s): %w", c.LogFile(), err)
	}
	return nil
}

// Stop stops the server (fast shutdown: active sessions are rolled back).
func (c *Cluster) Stop(ctx context.Context) error {
	if !isFile(filepath.Join(c.DataDir(), "postmaster.pid")) {
		return nil
	}
	if _, err := c.run(ctx, "pg_ctl", "-D", c.DataDir(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pgcluster: stop: %w", err)
	}
	return nil
}

// Remove deletes the whole cluster directory. Stop it first.
func (c *Cluster) Remove() error { return os.RemoveAll(c.dir) }

// run executes a server binary (or an absolute path), as the postgres user when root.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) (string, error) {
	if !filepath.IsAbs(prog) {
		prog = filepath.Join(c.binDir, prog)
	}
	if c.runAs != nil {
		args = append([]string{"-u", c.runAs.Username, "--", prog}, args...)
		prog = "runuser"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", filepath.Base(prog), err, strings.TrimSpace(lastLines(out.String(), 5)))
	}
	return out.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
