package message

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/absender/absender/domain"
)

func zipOf(t *testing.T, method uint16, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, data := range files {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// R22: the unpacking budget is shared by every archive of an attachment,
// so archives of archives cannot multiply it (each level alone stays
// below it; all together exceed it).
func TestR22_NestedArchivesShareOneBudget(t *testing.T) {
	defer func(old int64) { maxUnpacked = old }(maxUnpacked)
	maxUnpacked = 1 << 20
	inner := zipOf(t, zip.Store, map[string][]byte{"data.bin": make([]byte, 200<<10)})
	middle := zipOf(t, zip.Deflate, map[string][]byte{"a.zip": inner, "b.zip": inner, "c.zip": inner})
	outer := zipOf(t, zip.Deflate, map[string][]byte{"m1.zip": middle, "m2.zip": middle})
	d := Draft{From: "a@example.org", To: []string{"b@example.org"},
		Attachments: []AttachmentDraft{{Filename: "bomb.zip", ContentType: "application/zip", ContentBase64: base64.StdEncoding.EncodeToString(outer)}}}
	p, err := ParseSenders(d)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Validate(p, d, false)
	if !errors.Is(err, domain.ErrAttachmentForbidden) {
		t.Fatalf("Validate = %v, want ATTACHMENT_FORBIDDEN for exceeding the shared budget", err)
	}
	// One middle archive alone stays within the budget.
	d.Attachments[0].ContentBase64 = base64.StdEncoding.EncodeToString(middle)
	if _, err := Validate(p, d, false); err != nil {
		t.Fatalf("one level within the budget: %v", err)
	}
}
