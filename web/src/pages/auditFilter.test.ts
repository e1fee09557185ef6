import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditPageSize, auditVariables, changeText, emptyFilter, localToRFC3339, toLocalInput } from "./auditFilter";

// The browser's time zone decides the offset; these tests pin it (Node
// applies a changed TZ at once).
let savedTZ: string | undefined;
beforeAll(() => {
  savedTZ = process.env.TZ;
  process.env.TZ = "Europe/Berlin";
});
afterAll(() => {
  if (savedTZ === undefined) delete process.env.TZ;
  else process.env.TZ = savedTZ;
});

// SPEC §4: Time is RFC 3339 with any offset on input; R34: anything else
// is INVALID_INPUT naming the argument, which the page shows at the field.
describe("datetime-local → RFC 3339 with the browser's offset", () => {
  it("uses the winter offset in winter and the summer offset in summer", () => {
    expect(localToRFC3339("2026-12-08T14:30")).toBe("2026-12-08T14:30:00+01:00");
    expect(localToRFC3339("2026-07-01T09:05")).toBe("2026-07-01T09:05:00+02:00");
  });

  it("keeps seconds and milliseconds", () => {
    expect(localToRFC3339("2026-12-08T14:30:59")).toBe("2026-12-08T14:30:59+01:00");
    expect(localToRFC3339("2026-12-08T14:30:59.25")).toBe("2026-12-08T14:30:59.250+01:00");
  });

  it("names the same moment as the local time it came from", () => {
    const rfc = localToRFC3339("2026-03-29T03:30:00")!; // just after the spring change
    expect(new Date(rfc).getTime()).toBe(new Date(2026, 2, 29, 3, 30, 0).getTime());
    expect(rfc).toBe("2026-03-29T03:30:00+02:00");
  });

  it("omits an empty time", () => {
    expect(localToRFC3339("")).toBeNull();
    expect(localToRFC3339("   ")).toBeNull();
  });

  it("passes on what is not a local time, for the server to refuse", () => {
    expect(localToRFC3339("yesterday")).toBe("yesterday");
    expect(localToRFC3339("2026-02-31T10:00")).toBe("2026-02-31T10:00"); // no such day
    expect(localToRFC3339("2026-03-29T02:30")).toBe("2026-03-29T02:30"); // skipped by summer time
  });

  it("uses +00:00 where the zone is UTC", () => {
    process.env.TZ = "UTC";
    try {
      expect(localToRFC3339("2026-12-08T14:30")).toBe("2026-12-08T14:30:00+00:00");
    } finally {
      process.env.TZ = "Europe/Berlin";
    }
  });

  it("turns a moment back into the form's value", () => {
    const d = new Date("2026-12-08T13:30:05Z");
    expect(toLocalInput(d)).toBe("2026-12-08T14:30:05");
    expect(new Date(localToRFC3339(toLocalInput(d))!).getTime()).toBe(d.getTime());
  });
});

describe("audit filter → auditLog variables", () => {
  it("asks for the newest page first with nothing filtered", () => {
    expect(auditVariables(emptyFilter)).toEqual({
      tenantId: null,
      streamId: null,
      since: null,
      until: null,
      first: auditPageSize,
      after: null,
      newestFirst: true,
    });
  });

  it("sends every field that is filled in, times with their offset, and the cursor", () => {
    const v = auditVariables({ tenantId: "t1", since: "2026-12-01T00:00", until: "2026-12-08T12:00", streamId: "  mailbox-42 " }, "1234");
    expect(v).toEqual({
      tenantId: "t1",
      streamId: "mailbox-42",
      since: "2026-12-01T00:00:00+01:00",
      until: "2026-12-08T12:00:00+01:00",
      first: auditPageSize,
      after: "1234",
      newestFirst: true,
    });
  });

  it("passes a bad time on so the server names the field", () => {
    expect(auditVariables({ ...emptyFilter, since: "soon" }).since).toBe("soon");
  });
});

describe("field change in words", () => {
  it("shows both values, or a dash for none", () => {
    expect(changeText("a", "b")).toBe("a → b");
    expect(changeText(null, "b")).toBe("— → b");
    expect(changeText("a", null)).toBe("a → —");
  });
});
