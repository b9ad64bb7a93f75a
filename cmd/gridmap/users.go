package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"gridmap/geo"
	"gridmap/geo/auth"
	"gridmap/geo/store"
)

// cliActor names command-line changes in the audit trail.
const cliActor = "cli"

// splitName takes a leading NAME argument before the flags ("user add alice --role …").
func splitName(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// codesFlag collects repeated or comma-separated unit codes.
type codesFlag []string

func (c *codesFlag) String() string { return strings.Join(*c, ",") }
func (c *codesFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*c = append(*c, s)
		}
	}
	return nil
}

func checkCodes(codes []string, role auth.Role) error {
	for _, code := range codes {
		if len(code) == 15 {
			continue
		}
		if role == auth.Worker {
			return fmt.Errorf("a grid worker's scope is grid codes (15 characters), not %q", code)
		}
		if _, err := geo.LevelOfCode("unit", code); err != nil {
			return err
		}
	}
	return nil
}

// runUser: gridmap user add|grant|revoke|list|passwd|disable|enable.
func runUser(ctx context.Context, cfg config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, errors.New("user: add, grant, revoke, list, passwd, disable or enable")}
	}
	sub := args[0]
	name, rest := splitName(args[1:])
	fs := newFlags("user "+sub, stderr)
	role := fs.String("role", "", "add: admin, planner, viewer or worker")
	var units codesFlag
	fs.Var(&units, "unit", "unit code (6, 9 or 12 digits) or, for workers, grid code (15); repeatable or comma-separated")
	personal := fs.Bool("see-personal", false, "add/grant: may see names, phones and addresses in the clear (default for admins)")
	fromStdin := fs.Bool("password-stdin", false, "add/passwd: read the password from the first line of stdin (else a random one is printed)")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if sub != "list" && name == "" {
		return &exitError{2, fmt.Errorf("user %s: give a username", sub)}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	password := func() (string, bool, error) {
		if *fromStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return "", false, fmt.Errorf("read password: %w", err)
			}
			pw := strings.TrimRight(line, "\r\n")
			if err := auth.CheckPassword(pw); err != nil {
				return "", false, err
			}
			return pw, false, nil
		}
		pw, err := auth.NewPassword()
		return pw, true, err
	}

	st, _, done, err := openStore(ctx, cfg, log, 0)
	if err != nil {
		return err
	}
	defer done()
	ctx = store.WithActor(ctx, cliActor)
	switch sub {
	case "add":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return &exitError{2, fmt.Errorf("user add: --role: %w", err)}
		}
		if err := checkCodes(units, r); err != nil {
			return &exitError{2, fmt.Errorf("user add: --unit: %w", err)}
		}
		pw, generated, err := password()
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams())
		if err != nil {
			return err
		}
		see := *personal || (r == auth.Admin && !set["see-personal"])
		u, err := st.CreateUser(ctx, store.NewUser{Username: name, PasswordHash: hash, Role: string(r), SeePersonal: see, Scope: units})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created user %s (%s, scope %s, see personal %v)\n", u.Username, u.Role, strings.Join(u.Scope, ","), u.SeePersonal)
		if generated {
			fmt.Fprintln(stdout, pw) // the only time it is shown
		}
		return nil
	case "grant", "revoke":
		ch := store.UserChange{}
		if sub == "grant" {
			ch.Grant = units
		} else {
			ch.Revoke = units
		}
		if set["see-personal"] {
			v := *personal && sub == "grant"
			ch.SeePersonal = &v
		}
		if len(units) == 0 && !set["see-personal"] {
			return &exitError{2, fmt.Errorf("user %s: give --unit CODE and/or --see-personal", sub)}
		}
		u, err := st.UpdateUser(ctx, name, ch)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\tsee_personal=%v\n", u.Username, u.Role, strings.Join(u.Scope, ","), u.SeePersonal)
		return nil
	case "passwd":
		pw, generated, err := password()
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw, auth.DefaultParams())
		if err != nil {
			return err
		}
		if _, err := st.UpdateUser(ctx, name, store.UserChange{PasswordHash: &hash}); err != nil {
			return err
		}
		if generated {
			fmt.Fprintln(stdout, pw)
		}
		return nil
	case "disable", "enable":
		v := sub == "disable"
		_, err := st.UpdateUser(ctx, name, store.UserChange{Disabled: &v})
		return err
	case "list":
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tROLE\tSCOPE\tSEE PERSONAL\tDISABLED\tCREATED")
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\t%s\n", u.Username, u.Role, strings.Join(u.Scope, ","), u.SeePersonal, u.Disabled, u.CreatedAt.Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	}
	return &exitError{2, fmt.Errorf("user: unknown subcommand %q", sub)}
}

// runToken: gridmap token create --role ROLE [--unit CODE] [--read-only] [--name N]
// [--see-personal] prints a new API token on stdout; token list; token revoke ID.
func runToken(ctx context.Context, cfg config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, errors.New("token: create, list or revoke")}
	}
	sub := args[0]
	fs := newFlags("token "+sub, stderr)
	role := fs.String("role", "", "admin, planner, viewer or worker")
	var units codesFlag
	fs.Var(&units, "unit", "unit code (or grid code for workers); repeatable or comma-separated")
	readOnly := fs.Bool("read-only", false, "the token may only read")
	personal := fs.Bool("see-personal", false, "the token sees names, phones and addresses in the clear")
	name := fs.String("name", "", "a name to recognise the token by (e.g. qgis, benchmark)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var r auth.Role
	if sub == "create" {
		var err error
		if r, err = auth.ParseRole(*role); err != nil {
			return &exitError{2, fmt.Errorf("token create: --role: %w", err)}
		}
		if err := checkCodes(units, r); err != nil {
			return &exitError{2, fmt.Errorf("token create: --unit: %w", err)}
		}
		if r != auth.Admin && len(units) == 0 {
			return &exitError{2, fmt.Errorf("token create: a %s token needs --unit", r)}
		}
	}
	st, _, done, err := openStore(ctx, cfg, log, 0)
	if err != nil {
		return err
	}
	defer done()
	ctx = store.WithActor(ctx, cliActor)
	switch sub {
	case "create":
		secret, hash, err := auth.NewToken()
		if err != nil {
			return err
		}
		t, err := st.CreateToken(ctx, store.NewAPIToken{Hash: hash, Name: *name, Role: string(r), Units: units,
			ReadOnly: *readOnly, SeePersonal: *personal})
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created token %d (%s, units %s, read-only %v)\n", t.ID, t.Role, strings.Join(t.Units, ","), t.ReadOnly)
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		ts, err := st.Tokens(ctx, "")
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tUNITS\tREAD ONLY\tCREATED BY\tREVOKED\tLAST USED")
		for _, t := range ts {
			revoked, used := "", ""
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format("2006-01-02 15:04")
			}
			if t.LastUsed != nil {
				used = t.LastUsed.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, strings.Join(t.Units, ","), t.ReadOnly, t.CreatedBy, revoked, used)
		}
		return tw.Flush()
	case "revoke":
		var id int64
		if _, err := fmt.Sscan(fs.Arg(0), &id); err != nil || id <= 0 {
			return &exitError{2, errors.New("token revoke: give the token's id (see token list)")}
		}
		return st.RevokeToken(ctx, id)
	}
	return &exitError{2, fmt.Errorf("token: unknown subcommand %q", sub)}
}

// firstAdmin creates the user "admin" with a random password on a database without
// accounts, and prints the password once on stderr (never to the structured log).
func firstAdmin(ctx context.Context, st *store.Store, stderr io.Writer) error {
	n, err := st.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	pw, err := auth.NewPassword()
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw, auth.DefaultParams())
	if err != nil {
		return err
	}
	if _, err := st.CreateUser(store.WithActor(ctx, "first-start"), store.NewUser{Username: "admin", PasswordHash: hash,
		Role: string(auth.Admin), SeePersonal: true}); err != nil {
		return fmt.Errorf("create the first admin: %w", err)
	}
	fmt.Fprintf(stderr, "\nfirst start: created user \"admin\" with password %s\n"+
		"  it is shown only this once; change it with: gridmap user passwd admin --password-stdin\n\n", pw)
	return nil
}

// stdinOf is the process's stdin (a variable for tests: run is given none).
func stdinOf() io.Reader { return os.Stdin }
