package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/absender/absender/domain"
)

func ptr[T any](v T) *T { return &v }

func smtpInput() domain.ServerSettingsInput {
	return domain.ServerSettingsInput{
		Host: ptr("smtp.celanio.com"), Encryption: domain.EncryptionSTARTTLS, Auth: domain.AuthPassword,
		Username: ptr("welcome@celanio.com"), Password: ptr(domain.Secret("enc:pw1")),
		SenderAddress: "welcome@celanio.com", SenderName: ptr("celanio GmbH"),
	}
}

func graphInput() domain.ServerSettingsInput {
	return domain.ServerSettingsInput{
		Encryption: domain.EncryptionTLS, Auth: domain.AuthMicrosoftGraph,
		GraphTenantID: ptr("dir-1"), GraphClientID: ptr("client-1"), GraphClientSecret: ptr(domain.Secret("enc:cs1")),
		SenderAddress: "noreply@celanio.com",
	}
}

func TestR4_ServerSettings(t *testing.T) {
	t.Run("R4 default ports 25/587/465 by encryption", func(t *testing.T) {
		for enc, port := range map[domain.Encryption]int{domain.EncryptionNone: 25, domain.EncryptionSTARTTLS: 587, domain.EncryptionTLS: 465} {
			in := smtpInput()
			in.Encryption = enc
			s, err := domain.NewServerSettings(in, nil)
			if err != nil || s.Port != port {
				t.Fatalf("%v: got port %d, err %v; want %d", enc, s.Port, err, port)
			}
		}
	})
	t.Run("R4 valid password settings are stored normalised", func(t *testing.T) {
		in := smtpInput()
		in.Port = ptr(2525)
		in.SMTPUTF8 = ptr(true)
		got, err := domain.NewServerSettings(in, nil)
		want := domain.ServerSettings{Host: "smtp.celanio.com", Port: 2525, Encryption: domain.EncryptionSTARTTLS,
			Auth: domain.AuthPassword, Username: "welcome@celanio.com", Password: "enc:pw1",
			SenderAddress: "welcome@celanio.com", SenderName: "celanio GmbH", SMTPUTF8: true}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("got %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("R4 an IPv6 host with or without brackets is stored in one normal form", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{
			{"::1", "::1"},
			{"[::1]", "::1"},
			{"fc00::1", "fc00::1"},
			{"[FC00:0:0::1]", "fc00::1"},
			{"192.0.2.1", "192.0.2.1"},
			{"smtp.celanio.com", "smtp.celanio.com"},
		} {
			in := smtpInput()
			in.Host = ptr(tc.in)
			got, err := domain.NewServerSettings(in, nil)
			if err != nil || got.Host != tc.want {
				t.Errorf("host %q: got %q, %v; want %q", tc.in, got.Host, err, tc.want)
			}
		}
	})
	t.Run("R4 MICROSOFT_GRAPH needs no host and stores no host or port", func(t *testing.T) {
		got, err := domain.NewServerSettings(graphInput(), nil)
		if err != nil || got.Host != "" || got.Port != 0 || got.GraphClientSecret != "enc:cs1" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	invalid := []struct {
		name  string
		edit  func(*domain.ServerSettingsInput)
		field string
	}{
		{"host required", func(in *domain.ServerSettingsInput) { in.Host = nil }, "host"},
		{"host invalid", func(in *domain.ServerSettingsInput) { in.Host = ptr("smtp server") }, "host"},
		{"port 0", func(in *domain.ServerSettingsInput) { in.Port = ptr(0) }, "port"},
		{"port 65536", func(in *domain.ServerSettingsInput) { in.Port = ptr(65536) }, "port"},
		{"encryption required", func(in *domain.ServerSettingsInput) { in.Encryption = domain.Encryption{} }, "encryption"},
		{"auth required", func(in *domain.ServerSettingsInput) { in.Auth = domain.ServerAuth{} }, "auth"},
		{"PASSWORD needs username", func(in *domain.ServerSettingsInput) { in.Username = ptr(" ") }, "username"},
		{"PASSWORD needs password", func(in *domain.ServerSettingsInput) { in.Password = nil }, "password"},
		{"sender address invalid", func(in *domain.ServerSettingsInput) { in.SenderAddress = "nobody" }, "senderAddress"},
		{"sender name without CR/LF", func(in *domain.ServerSettingsInput) { in.SenderName = ptr("a\r\nBcc: x@y.z") }, "senderName"},
		{"first failing field in schema order: host before port and senderAddress", func(in *domain.ServerSettingsInput) {
			in.Host, in.Port, in.SenderAddress = ptr(""), ptr(-1), ""
		}, "host"},
		{"first failing field: username before senderAddress", func(in *domain.ServerSettingsInput) {
			in.Username, in.SenderAddress = nil, "x"
		}, "username"},
	}
	for _, tt := range invalid {
		t.Run("R4 "+tt.name+" is INVALID_INPUT", func(t *testing.T) {
			in := smtpInput()
			tt.edit(&in)
			_, err := domain.NewServerSettings(in, nil)
			assertField(t, err, tt.field)
		})
	}
	for _, tt := range []struct {
		name  string
		edit  func(*domain.ServerSettingsInput)
		field string
	}{
		{"graphTenantId", func(in *domain.ServerSettingsInput) { in.GraphTenantID = nil }, "graphTenantId"},
		{"graphClientId", func(in *domain.ServerSettingsInput) { in.GraphClientID = ptr("") }, "graphClientId"},
		{"graphClientSecret", func(in *domain.ServerSettingsInput) { in.GraphClientSecret = nil }, "graphClientSecret"},
		{"port range also for Graph", func(in *domain.ServerSettingsInput) { in.Port = ptr(70000) }, "port"},
	} {
		t.Run("R4 MICROSOFT_GRAPH needs "+tt.name, func(t *testing.T) {
			in := graphInput()
			tt.edit(&in)
			_, err := domain.NewServerSettings(in, nil)
			assertField(t, err, tt.field)
		})
	}

	t.Run("R4 omitted password keeps the stored one", func(t *testing.T) {
		prev, _ := domain.NewServerSettings(smtpInput(), nil)
		in := smtpInput()
		in.Password = nil
		got, err := domain.NewServerSettings(in, &prev)
		if err != nil || got.Password != "enc:pw1" {
			t.Fatalf("got password %q, %v; want enc:pw1", got.Password, err)
		}
	})
	t.Run("R4 omitted client secret keeps the stored one", func(t *testing.T) {
		prev, _ := domain.NewServerSettings(graphInput(), nil)
		in := graphInput()
		in.GraphClientSecret = ptr(domain.Secret(""))
		got, err := domain.NewServerSettings(in, &prev)
		if err != nil || got.GraphClientSecret != "enc:cs1" {
			t.Fatalf("got secret %q, %v; want enc:cs1", got.GraphClientSecret, err)
		}
	})
	t.Run("R4 changing auth drops secrets the new type does not use", func(t *testing.T) {
		prev, _ := domain.NewServerSettings(smtpInput(), nil)
		in := graphInput()
		got, err := domain.NewServerSettings(in, &prev)
		if err != nil || got.Password != "" || got.Username != "" {
			t.Fatalf("got %+v, %v; want no password or username", got, err)
		}
		in.GraphClientSecret = nil
		_, err = domain.NewServerSettings(in, &prev)
		assertField(t, err, "graphClientSecret")

		none := smtpInput()
		none.Auth, none.Password, none.Username = domain.AuthNone, nil, nil
		got, err = domain.NewServerSettings(none, &prev)
		if err != nil || got.HasPassword() {
			t.Fatalf("got %+v, %v; want no password", got, err)
		}
		back := smtpInput()
		back.Password = nil
		_, err = domain.NewServerSettings(back, &got)
		assertField(t, err, "password")
	})
}

func assertField(t *testing.T, err error, field string) {
	t.Helper()
	var de *domain.Error
	if !errors.Is(err, domain.ErrInvalidInput) || !errors.As(err, &de) || de.Field != field {
		t.Fatalf("got error %v, want INVALID_INPUT field %q", err, field)
	}
}
