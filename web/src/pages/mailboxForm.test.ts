import { describe, expect, it } from "vitest";
import { emptyMailbox, fromMailbox, hasChanges, toAddVariables, toUpdateVariables, unshownErrors, validate, type StoredMailbox } from "./mailboxForm";

const stored: StoredMailbox = {
  address: "welcome@celanio.example",
  displayName: "celanio GmbH",
  sender: true,
  replyTo: false,
  global: false,
  authenticated: true,
  settings: {
    host: "smtp.celanio.example",
    port: 587,
    encryption: "STARTTLS",
    auth: "PASSWORD",
    username: "welcome",
    hasPassword: true,
    hasGraphClientSecret: false,
    senderAddress: "welcome@celanio.example",
    senderName: "celanio GmbH",
    smtpUtf8: false,
  },
};

// R9: the four check boxes (Absender, Antwort, Global, mit Authentifizierung)
// as addMailbox receives them.
describe("mailbox form → addMailbox (R9, R12)", () => {
  it("sends the flags as ticked and no settings without authentication", () => {
    const s = { ...emptyMailbox(), address: " info@a.example ", displayName: " Info ", sender: false, replyTo: true };
    const v = toAddVariables("t1", s, true);
    expect(v).toEqual({ tenantId: "t1", address: "info@a.example", displayName: "Info", sender: false, replyTo: true });
    expect(v).not.toHaveProperty("settings");
    expect(v).not.toHaveProperty("global");
  });

  it("sends settings exactly when authenticated (settings present = authenticated)", () => {
    const s = { ...emptyMailbox(), address: "a@b.example", displayName: "A", authenticated: true };
    s.settings = { ...s.settings, host: "smtp.b.example", senderAddress: "a@b.example", auth: "PASSWORD", username: "a", password: "pw" };
    const v = toAddVariables("t1", s, false);
    expect(v.settings).toMatchObject({ host: "smtp.b.example", auth: "PASSWORD", username: "a", password: "pw", senderAddress: "a@b.example" });
    // settings typed, then "mit Authentifizierung" unticked: none are sent
    expect(toAddVariables("t1", { ...s, authenticated: false }, false)).not.toHaveProperty("settings");
  });

  it("sends global only for a system administrator (R12)", () => {
    const s = { ...emptyMailbox(), address: "a@b.example", displayName: "A", global: true };
    expect(toAddVariables("t1", s, true).global).toBe(true);
    expect(toAddVariables("t1", s, false)).not.toHaveProperty("global");
  });

  it("requires address and display name before sending", () => {
    expect(validate(emptyMailbox())).toEqual({ address: "required", displayName: "required" });
    expect(validate({ ...emptyMailbox(), address: "a@b.example", displayName: "A" })).toEqual({});
  });
});

describe("mailbox form → updateMailbox", () => {
  it("sends nothing but the id when nothing changed, and keeps stored settings", () => {
    const before = fromMailbox(stored);
    const v = toUpdateVariables("m1", before, fromMailbox(stored), true);
    expect(v).toEqual({ id: "m1" });
    expect(hasChanges(v)).toBe(false);
  });

  it("sends only the changed flags and name", () => {
    const before = fromMailbox(stored);
    const v = toUpdateVariables("m1", before, { ...before, replyTo: true, displayName: "celanio support " }, false);
    expect(v).toEqual({ id: "m1", replyTo: true, displayName: "celanio support" });
  });

  it("removes the settings when mit Authentifizierung is unticked", () => {
    const before = fromMailbox(stored);
    const v = toUpdateVariables("m1", before, { ...before, authenticated: false }, false);
    expect(v).toEqual({ id: "m1", removeSettings: true });
    expect(v).not.toHaveProperty("settings");
  });

  it("sends new settings when they changed, without a password that was not typed (R4)", () => {
    const before = fromMailbox(stored);
    const v = toUpdateVariables("m1", before, { ...before, settings: { ...before.settings, port: "2525" } }, false);
    expect(v.settings).toMatchObject({ host: "smtp.celanio.example", port: 2525, username: "welcome" });
    expect(v.settings).not.toHaveProperty("password");
    expect(v).not.toHaveProperty("removeSettings");
  });

  it("sends settings when a mailbox becomes authenticated", () => {
    const before = { ...fromMailbox({ ...stored, authenticated: false, settings: null }) };
    const after = { ...before, authenticated: true, settings: { ...before.settings, host: "smtp.x.example", senderAddress: "a@x.example" } };
    const v = toUpdateVariables("m1", before, after, false);
    expect(v.settings).toMatchObject({ host: "smtp.x.example", senderAddress: "a@x.example" });
    // ticked but not unticked-before: no removeSettings either way
    expect(toUpdateVariables("m1", before, before, false)).toEqual({ id: "m1" });
  });

  it("changes global only for a system administrator (R12)", () => {
    const before = fromMailbox(stored);
    expect(toUpdateVariables("m1", before, { ...before, global: true }, true)).toEqual({ id: "m1", global: true });
    expect(toUpdateVariables("m1", before, { ...before, global: true }, false)).toEqual({ id: "m1" });
  });
});

describe("server errors the form cannot show at a field", () => {
  const errs = (fields: Record<string, string>, general: string[] = []) => ({ fields, general, codes: [] });
  it("keeps field errors at their fields and sends the rest to the alert", () => {
    expect(unshownErrors(errs({ address: "bad" }, ["quota"]), false)).toEqual(["quota"]);
    expect(unshownErrors(errs({ tenantId: "gone" }), false)).toEqual(["gone"]);
    expect(unshownErrors(errs({ "settings.host": "bad host" }), true)).toEqual([]);
    expect(unshownErrors(errs({ host: "bad host" }), true)).toEqual([]);
    // settings hidden (not authenticated): their error is not lost
    expect(unshownErrors(errs({ "settings.host": "bad host" }), false)).toEqual(["bad host"]);
  });
});
