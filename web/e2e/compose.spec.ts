import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, inbox, signIn } from "./env";

// The Kommunikationsmanager (SPEC §6, seed 001): the Absenderadresse and
// Antwortadresse drop-downs, sending, the status live.

// The system server on the SMTP test server, enabled (R1), and a tenant
// with an employee (token) and a mailbox usable as sender and reply-to.
async function setUp(name: string) {
  await gql(
    env.adminToken,
    `mutation($input: ServerSettingsInput!) { configureSystemServer(input: $input) { configured } setSystemServerEnabled(enabled: true) { enabled } }`,
    { input: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example", senderName: "Absender System" } },
  );
  const stamp = `${name}-${Date.now().toString(36)}`;
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: `Compose ${stamp}` });
  const tenantId = t.createTenant.id;
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!, $e: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Erika Muster", email: $e, role: EMPLOYEE) { id } }`,
    { t: tenantId, l: `emp.${stamp}`, e: `erika@${stamp}.example` },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, { u: u.createUser.id });
  const mailbox = `info@${stamp}.example`;
  await gql(
    env.adminToken,
    `mutation($t: ID!, $a: String!) { addMailbox(tenantId: $t, address: $a, displayName: "Info Team", sender: true, replyTo: true) { id } }`,
    { t: tenantId, a: mailbox },
  );
  return { tenantId, token: tok.issueApiToken, mailbox, stamp };
}

async function openCompose(page: Page, token: string) {
  await signIn(page, token);
  await page.getByRole("navigation").getByRole("link", { name: "Communication manager" }).click();
  await expect(page.getByRole("heading", { name: "Communication manager" })).toBeVisible();
}

async function addRecipient(page: Page, label: string, address: string) {
  const input = page.getByRole("combobox", { name: label, exact: true });
  await input.fill(address);
  await input.press("Enter");
}

// R13, R14, R17, R22, R23: the From options are the system mailbox and the
// mailbox; a message From the mailbox with Reply-To is SENT, live, and the
// SMTP server received it with that From, envelope and recipients.
test("compose: an employee sends from a mailbox with reply-to and sees SENT live (R13 R14 R17 R23)", async ({ page }) => {
  const s = await setUp("send");
  const g = await guard(page);
  await openCompose(page, s.token);

  await page.getByRole("combobox", { name: "Sender address" }).click();
  await expect(page.getByRole("option", { name: "Absender System <noreply@absender.example>" })).toBeVisible();
  await page.getByRole("option", { name: `Info Team <${s.mailbox}>` }).click();
  await expect(page.getByRole("combobox", { name: "Sender address" })).toHaveValue(`Info Team <${s.mailbox}>`);

  await page.getByRole("combobox", { name: "Reply-to address" }).click();
  await page.getByRole("option", { name: `Info Team <${s.mailbox}>` }).click();

  const to = `kunde-${s.stamp}@example.org`;
  const cc = `kollege-${s.stamp}@example.org`;
  await addRecipient(page, "To", to);
  await addRecipient(page, "Cc", cc);
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill(`Angebot ${s.stamp}`);
  await page.getByRole("textbox", { name: "Message", exact: true }).fill("Guten Tag,\nanbei das Angebot.");
  await page.getByRole("button", { name: "Send", exact: true }).click();

  const sent = page.getByRole("region", { name: "Sent message" });
  await expect(sent.getByTestId("message-status")).toHaveText("Sent");
  await expect(sent.getByRole("table", { name: "Delivery attempts" })).toContainText("Sent");
  // An employee is not shown why the transport was chosen (resolution).
  await expect(sent.getByTestId("message-resolution")).toHaveCount(0);

  await expect
    .poll(async () => (await inbox()).find((d) => d.rcpts.includes(to)), { message: "the SMTP server received the message" })
    .toBeTruthy();
  const d = (await inbox()).find((x) => x.rcpts.includes(to))!;
  expect(d.from).toBe(s.mailbox); // R22: the envelope sender is the From address
  expect([...d.rcpts].sort()).toEqual([cc, to].sort());
  expect(d.data).toMatch(new RegExp(`^From: .*Info Team.*<${s.mailbox.replace(/\./g, "\\.")}>`, "m"));
  expect(d.data).toMatch(new RegExp(`^Reply-To: .*${s.mailbox.replace(/\./g, "\\.")}`, "m"));
  expect(d.data).toContain(`Angebot ${s.stamp}`);

  // After sending, the form is empty again for the next message.
  await expect(page.getByRole("textbox", { name: "Subject", exact: true })).toHaveValue("");
  g.check();
});

// R22: a forbidden attachment is refused with ATTACHMENT_FORBIDDEN, shown
// under the attachments field; nothing is sent.
test("compose: a forbidden attachment (x.exe) shows ATTACHMENT_FORBIDDEN under the attachments (R22)", async ({ page }) => {
  const s = await setUp("exe");
  const g = await guard(page);
  await openCompose(page, s.token);
  const to = `exe-${s.stamp}@example.org`;
  await addRecipient(page, "To", to);
  await page.getByRole("textbox", { name: "Subject", exact: true }).fill("Programm");
  const chooser = page.waitForEvent("filechooser");
  await page.getByRole("button", { name: "Attachments", exact: true }).click();
  await (await chooser).setFiles({ name: "x.exe", mimeType: "application/octet-stream", buffer: Buffer.from("MZ\x90\x00") });
  await expect(page.getByRole("table", { name: "Attachments" })).toContainText("x.exe");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await expect(page.getByRole("button", { name: "Attachments", exact: true })).toHaveAccessibleDescription(/This attachment is not allowed/);
  await expect(page.getByRole("region", { name: "Sent message" })).toHaveCount(0);
  expect((await inbox()).some((d) => d.rcpts.includes(to))).toBe(false);
  g.check();
});

// R1/R2: a user without sender options is told that sending is not
// available, instead of an empty drop-down.
test("compose: without sender options the page says sending is not available (R1 R2)", async ({ page }) => {
  const s = await setUp("nosend");
  await gql(env.adminToken, `mutation($t: ID!) { setTenantPolicy(tenantId: $t, allowSystemServer: false) { id } }`, { t: s.tenantId });
  const g = await guard(page);
  await openCompose(page, s.token);
  await expect(page.getByText("Sending is not available")).toBeVisible();
  await expect(page.getByRole("combobox", { name: "Sender address" })).toHaveCount(0);
  g.check();
});
