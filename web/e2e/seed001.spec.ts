import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, inbox, signIn } from "./env";
import { fillAdd, type Flags } from "./mailbox";

// Seed 001 end to end across the console's pages (issue 14): an
// administrator adds mailboxes with combinations of the four check boxes
// in "Zusätzliche Postfächer" and the employees' Absenderadresse and
// Antwortadresse drop-downs in the Kommunikationsmanager follow (R13,
// R14); at the quota Add is disabled with the quota note (R10); a mailbox
// restricted to a group disappears for a user outside the group (R11); a
// message from the authenticated mailbox arrives at its SMTP server (R16,
// R23); the audit log shows the grant.

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const domain = `celanio-${stamp}.example`;

async function user(tenantId: string, login: string, name: string): Promise<{ id: string; token: string }> {
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!, $n: String!, $e: String!) { createUser(tenantId: $t, loginName: $l, displayName: $n, email: $e, role: EMPLOYEE) { id } }`,
    { t: tenantId, l: `${login}.${stamp}`, n: name, e: `${login}@${domain}` },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "seed 001") }`, {
    u: u.createUser.id,
  });
  return { id: u.createUser.id, token: tok.issueApiToken };
}

async function addMailbox(page: Page, address: string, name: string, f: Flags) {
  const dialog = await fillAdd(page, address, name, f);
  if (f.authenticated) {
    await dialog.getByLabel("Encryption").click();
    await page.getByRole("option", { name: "None", exact: true }).click();
    await dialog.getByRole("textbox", { name: "Host" }).fill(env.smtpHost);
    await dialog.getByRole("textbox", { name: "Port", exact: true }).fill(String(env.smtpPort));
    await dialog.getByLabel("Sender address").fill(address);
  }
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  return dialog;
}

// The options of a drop-down in the Kommunikationsmanager, as shown.
async function dropDown(page: Page, label: string): Promise<string[]> {
  const box = page.getByRole("combobox", { name: label, exact: true });
  await box.click();
  const listbox = page.getByRole("listbox");
  await expect(listbox).toBeVisible();
  const names = await listbox.getByRole("option").allInnerTexts();
  await page.keyboard.press("Escape");
  return names.map((n) => n.replace(/\s+/g, " ").trim());
}

async function compose(page: Page, token: string) {
  await signIn(page, token);
  await page.getByRole("navigation").getByRole("link", { name: "Communication manager" }).click();
  await expect(page.getByRole("heading", { name: "Communication manager" })).toBeVisible();
}

const has = (options: string[], address: string) => options.some((o) => o.includes(`<${address}>`));

test("seed 001: mailboxes, their check boxes, quota and restriction drive the drop-downs; a message goes out (R10 R11 R13 R14 R16)", async ({ page }) => {
  test.setTimeout(180_000);
  const g = await guard(page);
  // The system server on the SMTP test server, enabled (seed 002).
  await gql(
    env.adminToken,
    `mutation($input: ServerSettingsInput!) { configureSystemServer(input: $input) { configured } setSystemServerEnabled(enabled: true) { enabled } }`,
    { input: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example", senderName: "Absender System" } },
  );
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `celanio ${stamp} GmbH`,
  });
  const tenantId = t.createTenant.id;
  await gql(env.adminToken, `mutation($t: ID!) { setTenantPolicy(tenantId: $t, mailboxQuota: 4) { id } }`, { t: tenantId });
  const erika = await user(tenantId, "erika", "Erika Vertrieb");
  const max = await user(tenantId, "max", "Max Lager");
  const grp = await gql<{ createGroup: { id: string } }>(env.adminToken, `mutation($t: ID!, $n: String!) { createGroup(tenantId: $t, name: $n) { id } }`, {
    t: tenantId,
    n: `Vertrieb ${stamp}`,
  });
  await gql(env.adminToken, `mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: grp.createGroup.id, u: erika.id });

  // The administrator adds four mailboxes, one combination each.
  await signIn(page, env.adminToken);
  await page.goto(`/mailboxes?tenant=${encodeURIComponent(tenantId)}`);
  await expect(page.getByText("0 of 4 mailboxes used")).toBeVisible();
  const mailboxes: [string, string, Flags][] = [
    [`absender@${domain}`, "Nur Absender", { sender: true, replyTo: false, global: false, authenticated: false }],
    [`antwort@${domain}`, "Nur Antwort", { sender: false, replyTo: true, global: false, authenticated: false }],
    [`welcome@${domain}`, "celanio GmbH", { sender: true, replyTo: true, global: false, authenticated: true }],
    [`global@${domain}`, "Global Info", { sender: true, replyTo: true, global: true, authenticated: false }],
  ];
  for (const [address, name, flags] of mailboxes) {
    const dialog = await addMailbox(page, address, name, flags);
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("row").filter({ hasText: address })).toHaveCount(1);
  }
  await expect(page.getByText("4 of 4 mailboxes used")).toBeVisible();
  // R10 (SPEC §6: no button that can only fail): for a fifth, Add is
  // disabled with the quota note as its description; nothing is added.
  const addFifth = page.getByRole("button", { name: "+ Add e-mail address" });
  await expect(addFifth).toBeDisabled();
  await expect(addFifth).toHaveAccessibleDescription("The quota is used up: a system administrator can allow more mailboxes.");
  await expect(page.getByRole("row").filter({ hasText: `fuenf@${domain}` })).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();

  // R13/R14: Max's drop-downs follow the check boxes.
  await compose(page, max.token);
  let from = await dropDown(page, "Sender address");
  expect(has(from, "noreply@absender.example"), "the system mailbox (R8)").toBe(true);
  expect(has(from, `absender@${domain}`)).toBe(true);
  expect(has(from, `antwort@${domain}`), "Antwort only is no sender").toBe(false);
  expect(has(from, `welcome@${domain}`)).toBe(true);
  expect(has(from, `global@${domain}`)).toBe(true);
  const replyTo = await dropDown(page, "Reply-to address");
  expect(has(replyTo, `absender@${domain}`), "Absender only is no reply-to").toBe(false);
  expect(has(replyTo, `antwort@${domain}`)).toBe(true);
  expect(has(replyTo, `welcome@${domain}`)).toBe(true);
  await page.getByRole("button", { name: "Sign out" }).click();

  // R11: the administrator restricts welcome@ to the group Vertrieb.
  await signIn(page, env.adminToken);
  await page.goto(`/mailboxes?tenant=${encodeURIComponent(tenantId)}`);
  await page.getByRole("button", { name: `Access: welcome@${domain}` }).click();
  const access = page.getByRole("dialog", { name: `Access to welcome@${domain}` });
  await access.getByLabel("User group").click();
  await access.getByLabel("User group").fill("Vertrieb");
  await page.getByRole("option", { name: `Vertrieb ${stamp}` }).click();
  await access.getByRole("button", { name: "+ Add user group" }).click();
  await expect(access.getByTestId("access-state")).toContainText("Restricted");
  await access.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Sign out" }).click();

  // Max is outside the group: welcome@ is gone from both drop-downs.
  await compose(page, max.token);
  from = await dropDown(page, "Sender address");
  expect(has(from, `welcome@${domain}`), "restricted to a group Max is not in").toBe(false);
  expect(has(from, `absender@${domain}`)).toBe(true);
  expect(has(await dropDown(page, "Reply-to address"), `welcome@${domain}`)).toBe(false);
  await page.getByRole("button", { name: "Sign out" }).click();

  // Erika is in the group: she sends from welcome@, through the mailbox's
  // own server (R16), and the message arrives.
  await compose(page, erika.token);
  await page.getByRole("combobox", { name: "Sender address" }).click();
  await page.getByRole("option", { name: `celanio GmbH <welcome@${domain}>` }).click();
  const to = `kunde-${stamp}@example.org`;
  const input = page.getByRole("combobox", { name: "To", exact: true });
  await input.fill(to);
  await input.press("Enter");
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill(`Willkommen ${stamp}`);
  await page.getByRole("textbox", { name: "Message", exact: true }).fill("Herzlich willkommen!");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(page.getByRole("region", { name: "Sent message" }).getByTestId("message-status")).toHaveText("Sent");
  await expect.poll(async () => (await inbox()).find((d) => d.rcpts.includes(to))?.from).toBe(`welcome@${domain}`);
  const d = (await inbox()).find((x) => x.rcpts.includes(to))!;
  expect(d.data).toContain(`Willkommen ${stamp}`);
  await page.getByRole("button", { name: "Sign out" }).click();

  // The audit log shows the grant (newest first).
  await signIn(page, env.adminToken);
  await page.goto(`/audit?tenant=${encodeURIComponent(tenantId)}`);
  const log = page.getByRole("table", { name: "Audit log" });
  await expect(log.getByRole("row").filter({ hasText: "MailboxGroupGranted" })).toHaveCount(1);
  g.check();
});
