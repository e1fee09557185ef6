package app

import (
	"github.com/absender/absender/domain"
)

// ServerSettingsInput is the API's server settings with plain-text
// secrets; the service encrypts them before they reach the domain.
type ServerSettingsInput struct {
	Host              *string
	Port              *int
	Encryption        string
	Auth              string
	Username          *string
	Password          *string
	GraphTenantID     *string
	GraphClientID     *string
	GraphClientSecret *string
	SenderAddress     string
	SenderName        *string
	SMTPUTF8          *bool
}

// secretAAD binds a ciphertext to the stream and field it belongs to, so a
// secret copied elsewhere does not decrypt.
func secretAAD(streamID, field string) []byte { return []byte("absender/" + streamID + "/" + field) }

// settings parses the enums and encrypts the secrets of in for the stream
// that will hold them. An empty secret counts as omitted.
func (c *core) settings(streamID string, in ServerSettingsInput) (domain.ServerSettingsInput, error) {
	enc, err := domain.ParseEncryption(in.Encryption)
	if err != nil {
		return domain.ServerSettingsInput{}, err
	}
	auth, err := domain.ParseServerAuth(in.Auth)
	if err != nil {
		return domain.ServerSettingsInput{}, err
	}
	out := domain.ServerSettingsInput{
		Host: in.Host, Port: in.Port, Encryption: enc, Auth: auth, Username: in.Username,
		GraphTenantID: in.GraphTenantID, GraphClientID: in.GraphClientID,
		SenderAddress: in.SenderAddress, SenderName: in.SenderName, SMTPUTF8: in.SMTPUTF8,
	}
	// R34 on the secrets too, so they are checked in plain text before
	// they are sealed, in schema order with the other fields.
	if err := domain.CheckServerSettingsText(out, in.Password, in.GraphClientSecret); err != nil {
		return domain.ServerSettingsInput{}, err
	}
	if out.Password, err = c.seal(streamID, "password", in.Password); err != nil {
		return domain.ServerSettingsInput{}, err
	}
	if out.GraphClientSecret, err = c.seal(streamID, "graphClientSecret", in.GraphClientSecret); err != nil {
		return domain.ServerSettingsInput{}, err
	}
	return out, nil
}

func (c *core) seal(streamID, field string, plain *string) (*domain.Secret, error) {
	if plain == nil || *plain == "" {
		return nil, nil
	}
	ct, err := c.ring.Encrypt([]byte(*plain), secretAAD(streamID, field))
	if err != nil {
		return nil, err
	}
	sec := domain.Secret(ct)
	return &sec, nil
}

// revealSecret decrypts a stored secret of a stream, for the transports
// that use it (only in memory, just before use).
func (c *core) revealSecret(streamID, field string, sec domain.Secret) (string, error) {
	if sec == "" {
		return "", nil
	}
	b, err := c.ring.Decrypt(string(sec), secretAAD(streamID, field))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
