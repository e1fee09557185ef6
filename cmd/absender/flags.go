package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// flagSet is a flag.FlagSet in which every flag falls back to an
// environment variable ABSENDER_<NAME> (upper case, dashes as underscores)
// when it is not given on the command line.
type flagSet struct {
	*flag.FlagSet
	summary string
	out     io.Writer
	// args are the positional arguments, which may stand before, between
	// or after the flags.
	args []string
}

func newFlagSet(name, summary string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), summary: summary, out: os.Stdout}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
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
		if set[f.Name] {
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
	fmt.Fprintf(w, "Usage: absender %s [flags]\n\n%s\n\nFlags (each also read from its environment variable):\n", fs.Name(), fs.summary)
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
	})
}

// errHelpShown ends a command after --help without an error message.
var errHelpShown = errors.New("help shown")
