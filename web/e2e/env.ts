import { expect, type Page } from "@playwright/test";

// What web/e2e/console_test.go passes: the server, tokens, and the SMTP
// test server with an inbox to read what arrived.
export const env = {
  url: must("ABSENDER_URL"),
  adminToken: must("ABSENDER_ADMIN_TOKEN"),
  auditorToken: must("ABSENDER_AUDITOR_TOKEN"),
  smtpHost: must("ABSENDER_SMTP_HOST"),
  smtpPort: Number(must("ABSENDER_SMTP_PORT")),
  inbox: must("ABSENDER_SMTP_INBOX"),
};

function must(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the console tests through make test (web/e2e/console_test.go)`);
  return v;
}

export interface Delivery {
  from: string;
  rcpts: string[];
  data: string;
}

// The messages the SMTP test server accepted so far.
export async function inbox(): Promise<Delivery[]> {
  const r = await fetch(env.inbox);
  return ((await r.json()) as Delivery[] | null) ?? [];
}

// Calls the GraphQL API directly (for set-up a test is not about, e.g.
// issuing a user's token); the console's own flows go through the page.
export async function gql<T = Record<string, unknown>>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const r = await fetch(`${env.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await r.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join("; ")}`);
  return body.data as T;
}

// Fails the test on any request to a host other than the server's
// (loopback only) and on a missing translation key.
export async function guard(page: Page) {
  const own = new URL(env.url).host;
  const outside: string[] = [];
  page.on("request", (req) => {
    const u = new URL(req.url());
    if ((u.protocol === "http:" || u.protocol === "https:" || u.protocol === "ws:" || u.protocol === "wss:") && u.host !== own) {
      outside.push(req.url());
    }
  });
  // A request the Content-Security-Policy blocks never fires a request
  // event: the page reports it as a violation instead.
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const missing: string[] = [];
  const blocked: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    if (text.startsWith("i18n: missing key")) missing.push(text);
    if (text.startsWith("CSP violation") || text.includes("Content Security Policy")) blocked.push(text);
  });
  return {
    check() {
      expect(outside, "requests outside the server").toEqual([]);
      expect(blocked, "loads the Content-Security-Policy blocked").toEqual([]);
      expect(missing, "missing translation keys").toEqual([]);
    },
  };
}

// Signs in with a token and waits for the console's shell.
export async function signIn(page: Page, token: string, lang: "de" | "en" = "en") {
  await page.goto("/");
  await page.evaluate((l) => localStorage.setItem("absender.language", l), lang);
  await page.reload();
  await page.getByLabel(lang === "de" ? "API-Token" : "API token").fill(token);
  await page.getByRole("button", { name: lang === "de" ? "Anmelden" : "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
}
