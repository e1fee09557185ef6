package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// flagSet is a flag.FlagSet whose settings fall back to an environment
// variable ABSENDER_<NAME> (upper case, dashes as underscores) when they
// are not given on the command line. Only flags marked with settings are
// settings (SPEC §5): every flag of serve and the global ones (database,
// key, broker, logging). The arguments naming what one command acts on —
// a token's role and name, an export's range, a tenant, a time — are flags
// only, so a stray variable such as ABSENDER_NAME cannot change them.
type flagSet struct {
	*flag.FlagSet
	summary string
	out     io.Writer
	// args are the positional arguments, which may stand before, between
	// or after the flags.
	args []string
	// env holds the flags that read their environment variable.
	env map[string]bool
}

func newFlagSet(name, summary string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), summary: summary, out: os.Stdout, env: map[string]bool{}}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// settings marks flags, already defined, as settings read from their
// environment variable too.
func (fs *flagSet) settings(names ...string) {
	for _, n := range names {
		if fs.Lookup(n) == nil {
			panic("flags: settings: no flag --" + n)
		}
		fs.env[n] = true
	}
}

// allSettings marks every flag defined so far as a setting (serve).
func (fs *flagSet) allSettings() {
	fs.VisitAll(func(f *flag.Flag) { fs.env[f.Name] = true })
}

// EnvName is the environment variable of a flag.
func envName(flagName string) string {
	return "ABSENDER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (fs *flagSet) parse(args []string) error {
	var err error
	for {
		if err = fs.Parse(args); err != nil || fs.NArg() == 0 {
			break
		}
		fs.args = append(fs.args, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if errors.Is(err, flag.ErrHelp) {
		fs.printHelp(fs.out)
		return errHelpShown
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v (see absender %s --help)", fs.Name(), err, fs.Name())}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || !fs.env[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName(f.Name), v, err))
			}
		}
	})
	if len(errs) > 0 {
		return usageError{errors.Join(errs...).Error()}
	}
	return nil
}

func (fs *flagSet) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: absender %s [flags]\n\n%s\n\nFlags (a setting in [brackets] is also read from that environment variable; the others are flags only):\n", fs.Name(), fs.summary)
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		env := ""
		if fs.env[f.Name] {
			env = "  [" + envName(f.Name) + "]"
		}
		fmt.Fprintf(w, "  --%s%s\n      %s%s\n", f.Name, env, f.Usage, def)
	})
}

// errHelpShown ends a command after --help without an error message.
var errHelpShown = errors.New("help shown")
