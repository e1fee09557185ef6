package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// serveSettings are the settings --check-config must show.
var serveSettings = []string{"database-url", "secret-key-file", "listen", "auto-migrate", "broker-url", "log-format",
	"log-level", "message-retention", "allow-private-hosts", "delivery-workers", "graph-url", "graph-token-url", "check-config"}

// --check-config prints every setting with its value and where it came
// from, and the OTEL_* environment, with secrets masked.
func TestCheckConfigPrintsMaskedSettings(t *testing.T) {
	k1 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	k2 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	t.Setenv("ABSENDER_SECRET_KEY", "k2:"+k2+",k1:"+k1)
	t.Setenv("ABSENDER_LISTEN", "0.0.0.0:9090")
	t.Setenv("OTEL_SERVICE_NAME", "absender-eu")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer otlp-t0ken")
	var out bytes.Buffer
	err := run(t.Context(), []string{"serve", "--check-config", "--database-url", "postgres://u:hunter2@h/db",
		"--broker-url", "nats://nats-user:natspass@broker:4222", "--delivery-workers", "3"}, &out, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("got %v, want the configuration printed", err)
	}
	got := out.String()
	for _, name := range serveSettings {
		if !regexp.MustCompile(`(?m)^--` + name + `\s+` + envName(name) + `\s`).MatchString(got) {
			t.Errorf("no line for --%s (%s) in:\n%s", name, envName(name), got)
		}
	}
	for _, want := range []string{
		`(?m)^--database-url\s.*postgres://u:xxxxx@h/db\s+flag$`,
		`(?m)^--broker-url\s.*nats://nats-user:xxxxx@broker:4222\s+flag$`,
		`(?m)^--delivery-workers\s.*\s3\s+flag$`,
		`(?m)^--listen\s.*\s0\.0\.0\.0:9090\s+environment$`,
		`(?m)^--log-level\s.*\sinfo\s+default$`,
		`(?m)^--graph-token-url\s.*\shttps://login\.microsoftonline\.com/\{tenant\}/oauth2/v2\.0/token\s+default$`,
		`(?m)^\S.*ABSENDER_SECRET_KEY\s.*set: .*\bk2\b.*\bk1\b.*environment$`,
		`(?m)^OTEL_SERVICE_NAME\s+absender-eu$`,
		`(?m)^OTEL_EXPORTER_OTLP_ENDPOINT\s+http://collector:4318$`,
		`(?m)^OTEL_EXPORTER_OTLP_HEADERS\s+\(masked\)$`,
	} {
		if !regexp.MustCompile(want).MatchString(got) {
			t.Errorf("output does not match %s:\n%s", want, got)
		}
	}
	for _, secret := range []string{"hunter2", "natspass", "otlp-t0ken", k1, k2} {
		if strings.Contains(got, secret) {
			t.Errorf("output shows the secret %q:\n%s", secret, got)
		}
	}
}

// A user name alone in a URL can be a token (NATS token authentication):
// it is masked too.
func TestCheckConfigMasksTokenUserNames(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://otlpT0ken@collector:4318")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"serve", "--check-config", "--broker-url", "nats://s3cr3tTOKEN@broker:4222"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cr3tTOKEN", "otlpT0ken"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("output shows the token %q:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "nats://xxxxx@broker:4222") {
		t.Errorf("the broker URL is not shown masked:\n%s", out.String())
	}
}

// --check-config (also as ABSENDER_CHECK_CONFIG) opens nothing: the SQLite
// file and its key file are not created.
func TestCheckConfigCreatesNothing(t *testing.T) {
	t.Setenv("ABSENDER_SECRET_KEY", "")
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"serve", "--check-config", "--database-url", filepath.Join(dir, "a.db")}, ""},
		{"environment", []string{"serve", "--database-url", filepath.Join(dir, "a.db")}, "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("ABSENDER_CHECK_CONFIG", tc.env)
			}
			var out bytes.Buffer
			if err := run(t.Context(), tc.args, &out, &bytes.Buffer{}); err != nil {
				t.Fatalf("got %v, want the configuration printed", err)
			}
			if !regexp.MustCompile(`(?m)^\S.*ABSENDER_SECRET_KEY\s+unset: key file .*a\.db\.key`).MatchString(out.String()) {
				t.Errorf("output does not name the key file:\n%s", out.String())
			}
			for _, f := range []string{"a.db", "a.db.key"} {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: got %v, want it not created", f, err)
				}
			}
		})
	}
}

// A bad value still stops --check-config with the usage error naming the
// setting, and prints no configuration.
func TestCheckConfigRefusesBadSettings(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		env    [2]string
		want   string
		secret string
	}{
		{args: []string{"serve", "--check-config", "--listen", "nonsense"}, want: "--listen (ABSENDER_LISTEN)"},
		{args: []string{"serve", "--check-config"}, env: [2]string{"ABSENDER_DELIVERY_WORKERS", "0"}, want: "--delivery-workers (ABSENDER_DELIVERY_WORKERS)"},
		{args: []string{"serve", "--check-config", "--database-url", "mysql://u:hunter2@h/db"}, want: "--database-url (ABSENDER_DATABASE_URL)", secret: "hunter2"},
		{args: []string{"serve", "--check-config", "--database-url", "postgres://u@h/db"}, env: [2]string{"ABSENDER_SECRET_KEY", ""}, want: "ABSENDER_SECRET_KEY is required"},
		{args: []string{"serve", "--check-config"}, env: [2]string{"ABSENDER_SECRET_KEY", "k1:c2VjcmV0LW1hdGVyaWFs"}, want: "ABSENDER_SECRET_KEY", secret: "c2VjcmV0LW1hdGVyaWFs"},
	} {
		t.Run(strings.Join(tc.args, " ")+" "+tc.env[0], func(t *testing.T) {
			t.Setenv("ABSENDER_SECRET_KEY", "")
			if tc.env[0] != "" {
				t.Setenv(tc.env[0], tc.env[1])
			}
			var out bytes.Buffer
			err := run(t.Context(), tc.args, &out, &bytes.Buffer{})
			var usage usageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error naming %q", err, tc.want)
			}
			if tc.secret != "" && err != nil && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error shows the secret: %v", err)
			}
			if out.Len() > 0 {
				t.Errorf("printed a configuration despite the error:\n%s", out.String())
			}
		})
	}
}
