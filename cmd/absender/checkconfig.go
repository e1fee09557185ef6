package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/absender/absender/database"
)

// masked stands for a value that is not shown.
const masked = "(masked)"

// printServeConfig is `absender serve --check-config`: c is validated;
// this checks what the start would check without opening anything (the
// key ring from ABSENDER_SECRET_KEY) and prints every setting of fs with
// its value and where it came from, then the OTEL_* environment. Secrets
// are masked: passwords in URLs, values of variables named like a secret,
// the key ring shown by its key ids only.
func printServeConfig(w io.Writer, fs *flagSet, c serveConfig) error {
	kind, target, err := database.Parse(c.db.URL)
	if err != nil { // Validate has passed; kept for safety
		return usageError{fmt.Sprintf("--database-url (ABSENDER_DATABASE_URL): %v", err)}
	}
	keys, err := secretKeyStatus(kind, target, c.db.SecretKeyFile)
	if err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			return err
		}
		return usageError{err.Error()}
	}

	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	fmt.Fprintln(w, "absender serve: effective configuration (secrets masked)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVARIABLE\tVALUE\tFROM")
	fs.VisitAll(func(f *flag.Flag) {
		env := envName(f.Name)
		from := "default"
		if onCommandLine[f.Name] {
			from = "flag"
		} else if _, ok := os.LookupEnv(env); ok {
			from = "environment"
		}
		fmt.Fprintf(tw, "--%s\t%s\t%s\t%s\n", f.Name, env, flagValue(f.Name, env, f.Value.String()), from)
	})
	from := "environment"
	if os.Getenv("ABSENDER_SECRET_KEY") == "" {
		from = "unset"
	}
	fmt.Fprintf(tw, "(secret key ring)\tABSENDER_SECRET_KEY\t%s\t%s\n", keys, from)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	otel := otelEnvironment()
	if len(otel) == 0 {
		fmt.Fprintln(w, "OpenTelemetry: no OTEL_* variable is set.")
		return nil
	}
	fmt.Fprintln(w, "OpenTelemetry environment:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range otel {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

// secretKeyStatus describes the key ring serve would use, without key
// material: ABSENDER_SECRET_KEY's key ids, or the SQLite key file. An
// invalid or (with PostgreSQL) missing ABSENDER_SECRET_KEY is an error.
func secretKeyStatus(kind database.Kind, target, keyFile string) (string, error) {
	ring, set, err := envKeyring(kind)
	switch {
	case err != nil:
		return "", err
	case set:
		return "set: " + ring.String(), nil
	}
	path := keyFile
	if path == "" {
		if i := strings.IndexByte(target, '?'); i >= 0 {
			target = target[:i]
		}
		if abs, err := filepath.Abs(target); err == nil {
			target = abs
		}
		path = target + ".key"
	}
	return "unset: key file " + displayPath(path) + " (created on first start when missing)", nil
}

// flagValue is a flag's value as shown: the database URL through
// database.Redact, passwords in any URL hidden, and a setting named like a
// secret masked, unless it is a path (*_FILE) or an address (*_URL).
func flagValue(name, env, v string) string {
	switch {
	case v == "":
		return `""`
	case name == "database-url":
		return maskURLs(database.Redact(v))
	case secretName(env) && !strings.HasSuffix(env, "_FILE") && !strings.HasSuffix(env, "_URL"):
		return masked
	}
	return maskURLs(v)
}

// otelEnvironment lists the OTEL_* variables that are set, sorted, with
// secret-looking ones masked (OTEL_EXPORTER_OTLP_HEADERS carries
// credentials).
func otelEnvironment() [][2]string {
	var out [][2]string
	for _, kv := range os.Environ() {
		name, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "OTEL_") {
			continue
		}
		if secretName(name) {
			v = masked
		} else {
			v = maskURLs(v)
		}
		out = append(out, [2]string{name, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// secretName reports whether a variable's name says it holds a secret.
func secretName(name string) bool {
	name = strings.ToUpper(name)
	for _, word := range []string{"HEADERS", "TOKEN", "SECRET", "PASSWORD", "KEY"} {
		if strings.Contains(name, word) {
			return true
		}
	}
	return false
}

// maskURLs hides the passwords of a URL or a comma-separated list of URLs:
// the userinfo password and query parameters named like a secret
// (PostgreSQL's password=, sslpassword=). Anything else passes unchanged.
func maskURLs(v string) string {
	if !strings.Contains(v, "://") {
		return v
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.Scheme == "" {
			if strings.Contains(p, "@") {
				parts[i] = masked // unparsable, may hold a password
			}
			continue
		}
		changed := false
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			changed = true
		} else if u.User != nil {
			u.User = url.User("xxxxx") // a user name alone may be a token (nats://TOKEN@host)
			changed = true
		}
		if q := u.Query(); len(q) > 0 {
			for k := range q {
				if secretName(k) {
					q.Set(k, "xxxxx")
					u.RawQuery = q.Encode()
					changed = true
				}
			}
		}
		if changed { // else as written: String would escape e.g. {tenant}
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
