import { describe, expect, it } from "vitest";
import { actionsFor } from "./messageActions";
import {
  bytesToBase64,
  cleanRecipients,
  emptyCompose,
  encodeFile,
  formatBytes,
  optionValue,
  placeErrors,
  toSendInput,
  validateCompose,
  type ComposeState,
} from "./composeForm";

const key = () => "key-1";
const state = (over: Partial<ComposeState> = {}): ComposeState => ({ ...emptyCompose(key), from: "Info <info@example.com>", to: ["a@example.com"], subject: "Hallo", ...over });

// The Kommunikationsmanager's form → SendMessageInput (R17, R22, R23).
describe("compose form → SendMessageInput", () => {
  it("sends From as the option's \"Name <address>\", the bare address without a name (R17, R15)", () => {
    expect(optionValue({ address: "info@example.com", displayName: "Info" })).toBe("Info <info@example.com>");
    expect(optionValue({ address: "info@example.com", displayName: " " })).toBe("info@example.com");
  });

  it("trims recipients, drops empty ones and removes duplicates across To, Cc and Bcc, case-insensitively (R22)", () => {
    const r = cleanRecipients([" a@example.com", "B@example.com", "", "a@example.com"], ["b@example.com", "c@example.com "], ["A@EXAMPLE.COM", "d@example.com"]);
    expect(r).toEqual({ to: ["a@example.com", "B@example.com"], cc: ["c@example.com"], bcc: ["d@example.com"] });
  });

  it("leaves out an empty Reply-To, Cc, Bcc, text and attachment list", () => {
    const input = toSendInput(state({ replyTo: null, subject: "  Hallo  " }));
    expect(input).toEqual({ from: "Info <info@example.com>", to: ["a@example.com"], subject: "Hallo", idempotencyKey: "key-1" });
    expect(toSendInput(state({ replyTo: "" }))).not.toHaveProperty("replyTo");
  });

  it("passes Reply-To, Cc, Bcc, text and attachments when given", () => {
    const input = toSendInput(
      state({
        replyTo: "Antwort <reply@example.com>",
        cc: ["c@example.com"],
        bcc: ["b@example.com"],
        text: "Zeile 1\nZeile 2",
        attachments: [{ filename: "a.pdf", contentType: "", contentBase64: "JVBERg==", size: 4 }],
      }),
    );
    expect(input.replyTo).toBe("Antwort <reply@example.com>");
    expect(input.cc).toEqual(["c@example.com"]);
    expect(input.bcc).toEqual(["b@example.com"]);
    expect(input.text).toBe("Zeile 1\nZeile 2");
    expect(input.attachments).toEqual([{ filename: "a.pdf", contentType: "application/octet-stream", contentBase64: "JVBERg==" }]);
  });

  it("keeps one idempotency key per composed message, a new one for the next (R23)", () => {
    const s = state();
    expect(toSendInput(s).idempotencyKey).toBe(toSendInput(s).idempotencyKey);
    let n = 0;
    const next = () => `k${++n}`;
    expect(emptyCompose(next).idempotencyKey).not.toBe(emptyCompose(next).idempotencyKey);
  });

  it("encodes attachments as base64, also large ones", async () => {
    expect(bytesToBase64(new TextEncoder().encode("Grüße"))).toBe(btoa(String.fromCharCode(...new TextEncoder().encode("Grüße"))));
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    expect(atob(bytesToBase64(big)).length).toBe(big.length);
    const f = await encodeFile(new File([new Uint8Array([1, 2, 3])], "x.bin", { type: "application/octet-stream" }));
    expect(f).toEqual({ filename: "x.bin", contentType: "application/octet-stream", contentBase64: "AQID", size: 3 });
  });

  it("asks for a From and 1 to 100 recipients before sending (R22)", () => {
    expect(validateCompose(state())).toEqual({});
    expect(validateCompose(state({ from: null })).from).toBe("error.fromRequired");
    expect(validateCompose(state({ to: [" "] })).to).toBe("error.recipientRequired");
    expect(validateCompose(state({ to: [], bcc: ["x@example.com"] }))).toEqual({});
    const many = Array.from({ length: 101 }, (_, i) => `u${i}@example.com`);
    expect(validateCompose(state({ to: many })).to).toBe("error.tooManyRecipients");
    expect(validateCompose(state({ to: [...many.slice(0, 100), "U0@example.com"] })).to).toBeUndefined();
  });

  it("shows sizes in words", () => {
    expect(formatBytes(812)).toBe("812 B");
    expect(formatBytes(2048)).toBe("2.0 KiB");
    expect(formatBytes(25 << 20)).toBe("25.0 MiB");
  });
});

// Where sendMessage's errors show (SPEC §6: next to the field extensions.field names).
describe("compose errors → fields", () => {
  it("puts R17's errors under From and Reply-To, ATTACHMENT_FORBIDDEN under the attachments (R22)", () => {
    expect(placeErrors([{ code: "FROM_NOT_ALLOWED", field: "from", text: "f" }]).fields).toEqual({ from: "f" });
    expect(placeErrors([{ code: "FROM_NOT_ALLOWED", text: "f" }]).fields).toEqual({ from: "f" });
    expect(placeErrors([{ code: "REPLY_TO_NOT_ALLOWED", text: "r" }]).fields).toEqual({ replyTo: "r" });
    expect(placeErrors([{ code: "ATTACHMENT_FORBIDDEN", field: "attachments", text: "a" }]).fields).toEqual({ attachments: "a" });
    expect(placeErrors([{ code: "ATTACHMENT_FORBIDDEN", text: "a" }]).fields).toEqual({ attachments: "a" });
  });

  it("puts INVALID_INPUT under the field it names, in any spelling of it", () => {
    expect(placeErrors([{ code: "INVALID_INPUT", field: "to", text: "t" }]).fields).toEqual({ to: "t" });
    expect(placeErrors([{ code: "INVALID_INPUT", field: "input.cc", text: "c" }]).fields).toEqual({ cc: "c" });
    expect(placeErrors([{ code: "INVALID_INPUT", field: "input.attachments[2].filename", text: "a" }]).fields).toEqual({ attachments: "a" });
    expect(placeErrors([{ code: "INVALID_INPUT", field: "subject", text: "s" }]).fields).toEqual({ subject: "s" });
    expect(placeErrors([{ code: "INVALID_INPUT", field: "html", text: "h" }]).fields).toEqual({ text: "h" });
  });

  it("shows SENDING_DISABLED, CONFLICT and unknown fields above the form", () => {
    const p = placeErrors([
      { code: "SENDING_DISABLED", field: "from", text: "d" },
      { code: "CONFLICT", text: "c" },
      { code: "INVALID_INPUT", field: "complexity", text: "x" },
      { text: "network" },
    ]);
    expect(p.fields).toEqual({});
    expect(p.general).toEqual(["d", "c", "x", "network"]);
  });
});

// What the message detail offers by role and status (R23, R25).
describe("message actions", () => {
  it("offers cancel for QUEUED and RETRYING, retry now for RETRYING, purge to administrators", () => {
    expect(actionsFor("EMPLOYEE", "QUEUED")).toEqual(["cancel"]);
    expect(actionsFor("EMPLOYEE", "RETRYING")).toEqual(["cancel", "retry"]);
    expect(actionsFor("EMPLOYEE", "SENT")).toEqual([]);
    expect(actionsFor("ADMINISTRATOR", "SENT")).toEqual(["purge"]);
    expect(actionsFor("SYSTEM_ADMIN", "RETRYING")).toEqual(["cancel", "retry", "purge"]);
  });

  it("offers auditors nothing: they change nothing", () => {
    expect(actionsFor("AUDITOR", "RETRYING")).toEqual([]);
  });
});
