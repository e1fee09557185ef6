package domain

// CheckServerSettingsText checks R34 on every text field of a server
// settings input as received, before anything is trimmed, parsed or
// sealed, in schema order: host, username, password, graphTenantId,
// graphClientId, graphClientSecret, senderAddress, senderName. One-line
// texts of at most MaxString characters; the sender name at most MaxName
// and safe in a header (CheckHeaderText). password and graphClientSecret
// are the secrets in plain text, which the API checks before it seals them
// (nil when not given or already sealed, as in NewServerSettings). Errors
// are INVALID_INPUT naming the field.
func CheckServerSettingsText(in ServerSettingsInput, password, graphClientSecret *string) error {
	for _, f := range []struct {
		field string
		value *string
	}{
		{"host", in.Host},
		{"username", in.Username},
		{"password", password},
		{"graphTenantId", in.GraphTenantID},
		{"graphClientId", in.GraphClientID},
		{"graphClientSecret", graphClientSecret},
		{"senderAddress", &in.SenderAddress},
	} {
		if f.value == nil {
			continue
		}
		if err := CheckLine(f.field, *f.value, MaxString); err != nil {
			return err
		}
	}
	if in.SenderName != nil {
		return CheckHeaderText("senderName", *in.SenderName, MaxName)
	}
	return nil
}
