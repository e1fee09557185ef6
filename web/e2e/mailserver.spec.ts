import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, inbox, signIn } from "./env";

// The E-Mail-Server page (SPEC §6, seed 002) as a system administrator.
// The system mail server is global: every test leaves it configured to the
// SMTP test server (encryption NONE, auth NONE) and enabled.

async function openPage(page: Page) {
  await page.getByRole("navigation").getByRole("link", { name: "E-mail server" }).click();
  return page.getByRole("region", { name: "Basic settings" });
}

async function choose(page: Page, field: ReturnType<Page["getByLabel"]>, option: string) {
  await field.click();
  await page.getByRole("option", { name: option, exact: true }).click();
}

type SystemServer = { systemMailServer: { configured: boolean; enabled: boolean; settings: { host: string; port: number; senderAddress: string } | null } };
const systemServerQuery = `{ systemMailServer { configured enabled settings { host port senderAddress } } }`;

test("E-Mail-Server: configure the system server, switch it on, check it and see a test mail SENT live (R1, R4, R6)", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.adminToken);
  const basic = await openPage(page);

  // Grundeinstellungen (R4): the SMTP test server, no encryption, no authentication.
  await choose(page, basic.getByLabel("Authentication"), "None");
  await choose(page, basic.getByLabel("Encryption"), "None");
  await basic.getByLabel("Host").fill(env.smtpHost);
  await basic.getByLabel("Port", { exact: true }).fill(String(env.smtpPort));
  await basic.getByLabel("Sender address").fill("noreply@absender.example");
  await basic.getByRole("button", { name: "Save" }).click();
  await expect(basic.getByText("Saved.")).toBeVisible();
  const stored = await gql<SystemServer>(env.adminToken, systemServerQuery);
  expect(stored.systemMailServer.settings).toEqual({ host: env.smtpHost, port: env.smtpPort, senderAddress: "noreply@absender.example" });

  // Mailserver benutzen (R1): off, then on again, each stored.
  const useServer = basic.getByRole("switch", { name: "Use mail server" });
  await expect(useServer).toBeChecked();
  await useServer.click();
  await expect(useServer).not.toBeChecked();
  await expect.poll(async () => (await gql<SystemServer>(env.adminToken, systemServerQuery)).systemMailServer.enabled).toBe(false);
  await useServer.click();
  await expect(useServer).toBeChecked();
  await expect.poll(async () => (await gql<SystemServer>(env.adminToken, systemServerQuery)).systemMailServer.enabled).toBe(true);

  // Verbindung prüfen with the form's settings.
  await basic.getByRole("button", { name: "Check connection" }).click();
  await expect(basic.getByTestId("check-result")).toContainText("Connection works");

  // A test mail (R6), its status live through messageStatus until SENT, then in the inbox.
  const to = `test-${Date.now()}@example.org`;
  const testMail = page.getByRole("region", { name: "Test mail" });
  await testMail.getByLabel("Recipient").fill(to);
  await testMail.getByRole("button", { name: "Send test mail" }).click();
  await expect(testMail.getByTestId("test-mail-status")).toContainText("Sent");
  await expect.poll(async () => (await inbox()).some((d) => d.rcpts.includes(to))).toBe(true);
  const mail = (await inbox()).find((d) => d.rcpts.includes(to))!;
  expect(mail.from).toBe("noreply@absender.example");
  g.check();
});

test("E-Mail-Server: an invalid host is shown under Host and nothing is saved (R4)", async ({ page }) => {
  await gql(env.adminToken, `mutation($i: ServerSettingsInput!) { configureSystemServer(input: $i) { configured } }`, {
    i: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example" },
  });
  const g = await guard(page);
  await signIn(page, env.adminToken);
  const basic = await openPage(page);
  const host = basic.getByLabel("Host");
  await expect(host).toHaveValue(env.smtpHost);
  await host.fill("not a host!");
  await basic.getByRole("button", { name: "Save" }).click();
  await expect(host).toHaveAttribute("aria-invalid", "true");
  await expect(host).toHaveAccessibleDescription(/Invalid input/);
  await expect(basic.getByText("Saved.")).toHaveCount(0);
  const stored = await gql<SystemServer>(env.adminToken, systemServerQuery);
  expect(stored.systemMailServer.settings?.host).toBe(env.smtpHost);
  expect(stored.systemMailServer.enabled).toBe(true);
  g.check();
});

test("E-Mail-Server: support settings are stored (R7) and the page speaks the seed's German", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.adminToken, "de");
  await page.getByRole("navigation").getByRole("link", { name: "E-Mail-Server" }).click();
  await expect(page.getByRole("region", { name: "Grundeinstellungen" }).getByRole("switch", { name: "Mailserver benutzen" })).toBeVisible();
  const support = page.getByRole("region", { name: "Support" });
  await support.getByLabel("E-Mail-Adresse für Support-Anfragen").fill("support@absender.example");
  await support.getByText("Mandantspezifische Support-Adresse erlauben").click();
  await support.getByRole("button", { name: "Speichern" }).click();
  await expect(support.getByText("Gespeichert.")).toBeVisible();
  const s = await gql<{ systemMailServer: { support: { address: string; allowTenantAddress: boolean } } }>(
    env.adminToken,
    `{ systemMailServer { support { address allowTenantAddress } } }`,
  );
  expect(s.systemMailServer.support.address).toBe("support@absender.example");
  expect(s.systemMailServer.support.allowTenantAddress).toBe(true);
  g.check();
});

test("E-Mail-Server: an auditor reads the system server with nothing to change", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.auditorToken);
  const basic = await openPage(page);
  await expect(basic.getByLabel("Host")).toBeVisible();
  await expect(page.getByRole("button", { name: "Save" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Send test mail" })).toHaveCount(0);
  await expect(basic.getByRole("switch", { name: "Use mail server" })).toBeDisabled();
  g.check();
});

// A tenant's owner: its own server, a test mail through it, its support address.
async function tenantOwner(name: string): Promise<{ tenantId: string; token: string }> {
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: name });
  const login = `owner.${Date.now()}`;
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Olga Owner", email: "olga@owner.example", role: LEGAL_REPRESENTATIVE) { id } }`,
    { t: t.createTenant.id, l: login },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, { u: u.createUser.id });
  return { tenantId: t.createTenant.id, token: tok.issueApiToken };
}

test("E-Mail-Server: a tenant owner configures the tenant's server, which then sends, and a test mail through it is SENT live (R2, R6, R7)", async ({ page }) => {
  await gql(env.adminToken, `mutation($i: ServerSettingsInput!) { configureSystemServer(input: $i) { configured } setSystemServerEnabled(enabled: true) { enabled } }`, {
    i: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example" },
  });
  await gql(env.adminToken, `mutation { configureSupport(address: "support@absender.example", allowTenantAddress: true, attachSystemInfo: false) { configured } }`);
  const { tenantId, token } = await tenantOwner(`Eigener Server GmbH ${Date.now()}`);
  const g = await guard(page);
  await signIn(page, token);
  await page.getByRole("navigation").getByRole("link", { name: "E-mail server" }).click();
  await expect(page.getByText("System server", { exact: true })).toBeVisible();

  const server = page.getByRole("region", { name: "Tenant mail server" });
  await choose(page, server.getByLabel("Authentication"), "None");
  await choose(page, server.getByLabel("Encryption"), "None");
  await server.getByLabel("Host").fill(env.smtpHost);
  await server.getByLabel("Port", { exact: true }).fill(String(env.smtpPort));
  await server.getByLabel("Sender address").fill("info@eigener-server.example");
  await server.getByRole("button", { name: "Save" }).click();
  await expect(server.getByText("Saved.")).toBeVisible();
  await expect(page.getByText("Tenant server", { exact: true })).toBeVisible();

  const to = `tenant-test-${Date.now()}@example.org`;
  const testMail = page.getByRole("region", { name: "Test mail" });
  await expect(testMail.getByLabel("Send through")).toHaveValue("The tenant's own server");
  await testMail.getByLabel("Recipient").fill(to);
  await testMail.getByRole("button", { name: "Send test mail" }).click();
  await expect(testMail.getByTestId("test-mail-status")).toContainText("Sent");
  await expect.poll(async () => (await inbox()).find((d) => d.rcpts.includes(to))?.from).toBe("info@eigener-server.example");

  const support = page.getByRole("region", { name: "Support" });
  await support.getByLabel("Tenant's support address").fill("hilfe@eigener-server.example");
  await support.getByRole("button", { name: "Save" }).click();
  await expect(support.getByText("Saved.")).toBeVisible();
  const s = await gql<{ tenant: { supportAddress: string } }>(env.adminToken, `query($t: ID!) { tenant(id: $t) { supportAddress } }`, { t: tenantId });
  expect(s.tenant.supportAddress).toBe("hilfe@eigener-server.example");
  g.check();
});

test("E-Mail-Server: a tenant whose policy allows no own server is told so, with no form (R3)", async ({ page }) => {
  const { tenantId, token } = await tenantOwner(`Ohne Server GmbH ${Date.now()}`);
  await gql(env.adminToken, `mutation($t: ID!) { setTenantPolicy(tenantId: $t, allowOwnServer: false) { id } }`, { t: tenantId });
  const g = await guard(page);
  await signIn(page, token);
  await page.getByRole("navigation").getByRole("link", { name: "E-mail server" }).click();
  const server = page.getByRole("region", { name: "Tenant mail server" });
  await expect(server.getByText("This tenant may not have its own mail server")).toBeVisible();
  await expect(server.getByLabel("Host")).toHaveCount(0);
  await expect(server.getByRole("button")).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Test mail" }).getByRole("button", { name: "Send test mail" })).toHaveCount(0);
  g.check();
});
