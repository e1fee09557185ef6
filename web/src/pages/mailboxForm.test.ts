import { describe, expect, it } from "vitest";
import { accessErrors, canAdd, lastError, pageAfterEmpty, emptyMailbox, fromMailbox, hasChanges, toAddVariables, toUpdateVariables, unshownErrors, validate, type StoredMailbox } from "./mailboxForm";

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

describe("quota, paging and access errors (review fixes)", () => {
  it("R10 §6: Add is possible only below the quota", () => {
    expect(canAdd(0, 1)).toBe(true);
    expect(canAdd(3, 4)).toBe(true);
    expect(canAdd(4, 4)).toBe(false);
    expect(canAdd(5, 4)).toBe(false);
  });
  it("§6: an emptied page after the first steps back one page while mailboxes remain", () => {
    expect(pageAfterEmpty([null, "c1"], 0, 20)).toEqual([null]);
    expect(pageAfterEmpty([null, "c1", "c2"], 0, 40)).toEqual([null, "c1"]);
    expect(pageAfterEmpty([null, "c1"], 3, 23)).toEqual([null, "c1"]);
    expect(pageAfterEmpty([null], 0, 0)).toEqual([null]);
    expect(pageAfterEmpty([null, "c1"], 0, 0)).toEqual([null, "c1"]);
  });
  it("R11: the last operation's error replaces an earlier one; success clears it", () => {
    const failed = { error: "grant failed" };
    let shown = lastError(failed);
    expect(shown).toBe("grant failed");
    shown = lastError<string>({ error: undefined });
    expect(shown).toBeNull();
    shown = lastError({ error: "revoke failed" });
    expect(shown).toBe("revoke failed");
  });
  it("§6: a grant's error goes to the picker extensions.field names, the rest stays general", () => {
    const errs = { fields: { userId: "No such user.", other: "Other." }, general: ["Forbidden."], codes: [] };
    expect(accessErrors(errs)).toEqual({ userId: "No such user.", groupId: undefined, general: ["Forbidden.", "Other."] });
    const g = accessErrors({ fields: { groupId: "No such group." }, general: [], codes: [] });
    expect(g.groupId).toBe("No such group.");
    expect(g.userId).toBeUndefined();
    expect(g.general).toEqual([]);
  });
});
