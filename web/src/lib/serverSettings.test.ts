import { describe, expect, it } from "vitest";
import { initialSettings, parsePort, toInput } from "./serverSettings";

// R4 as the form applies it before the server checks it again.
describe("server settings form → ServerSettingsInput (R4)", () => {
  it("omits an empty password so the stored one is kept", () => {
    const s = { ...initialSettings({ host: "smtp.example.com", port: 587, encryption: "STARTTLS", auth: "PASSWORD", username: "u", hasPassword: true, hasGraphClientSecret: false, senderAddress: "a@example.com", smtpUtf8: false }) };
    const input = toInput(s);
    expect(input).not.toHaveProperty("password");
    expect(input.username).toBe("u");
    expect(toInput({ ...s, password: "geheim" }).password).toBe("geheim");
  });

  it("sends only the fields of the chosen authentication", () => {
    const base = { ...initialSettings(), host: "smtp.example.com", senderAddress: "a@example.com", username: "u", password: "p", graphTenantId: "t", graphClientId: "c", graphClientSecret: "s" };
    const none = toInput({ ...base, auth: "NONE" });
    expect(none).not.toHaveProperty("username");
    expect(none).not.toHaveProperty("graphClientSecret");
    const graph = toInput({ ...base, auth: "MICROSOFT_GRAPH" });
    expect(graph).not.toHaveProperty("host");
    expect(graph).not.toHaveProperty("password");
    expect(graph).toMatchObject({ graphTenantId: "t", graphClientId: "c", graphClientSecret: "s" });
  });

  it("leaves the port to its default when empty, and trims what was typed", () => {
    const s = { ...initialSettings(), host: " smtp.example.com ", senderAddress: " a@example.com ", senderName: "  " };
    const input = toInput(s);
    expect(input).not.toHaveProperty("port");
    expect(input.host).toBe("smtp.example.com");
    expect(input.senderAddress).toBe("a@example.com");
    expect(input.senderName).toBeNull();
    expect(toInput({ ...s, port: "2525" }).port).toBe(2525);
  });

  it("parses ports", () => {
    expect(parsePort("")).toBeUndefined();
    expect(parsePort("465")).toBe(465);
    expect(parsePort("4x")).toBe("invalid");
    expect(parsePort("-1")).toBe("invalid");
  });
});
