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
