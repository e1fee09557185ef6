import { expect, test } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";

// The Messages page (SPEC §6): the list newest first, the detail with the
// attempt log, the status filter.

async function sentMessage(name: string) {
  await gql(
    env.adminToken,
    `mutation($input: ServerSettingsInput!) { configureSystemServer(input: $input) { configured } setSystemServerEnabled(enabled: true) { enabled } }`,
    { input: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example", senderName: "Absender System" } },
  );
  const stamp = `${name}-${Date.now().toString(36)}`;
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: `Messages ${stamp}` });
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!, $e: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Max Muster", email: $e, role: EMPLOYEE) { id } }`,
    { t: t.createTenant.id, l: `msg.${stamp}`, e: `max@${stamp}.example` },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, { u: u.createUser.id });
  const subject = `Rechnung ${stamp}`;
  const m = await gql<{ sendMessage: { id: string } }>(
    tok.issueApiToken,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    { input: { from: "noreply@absender.example", to: [`kunde-${stamp}@example.org`], subject, text: "Hallo" } },
  );
  const id = m.sendMessage.id;
  await expect
    .poll(async () => (await gql<{ message: { status: string } }>(env.adminToken, `query($id: ID!) { message(id: $id) { status } }`, { id })).message.status)
    .toBe("SENT");
  return { tenantId: t.createTenant.id, token: tok.issueApiToken, subject, id };
}

// R23: the sender's message in its list; the detail shows the attempt log.
test("messages: an employee finds the sent message and its attempt log (R23)", async ({ page }) => {
  const s = await sentMessage("emp");
  const g = await guard(page);
  await signIn(page, s.token);
  await page.getByRole("navigation").getByRole("link", { name: "Messages" }).click();
  const row = page.getByRole("row").filter({ hasText: s.subject });
  await expect(row).toContainText("Sent");
  await row.getByRole("button", { name: s.subject }).click();
  const drawer = page.getByRole("dialog", { name: "Message" });
  await expect(drawer.getByTestId("message-status")).toHaveText("Sent");
  const attempts = drawer.getByRole("table", { name: "Delivery attempts" });
  await expect(attempts.getByRole("row")).toHaveCount(2); // header + attempt 1
  await expect(attempts).toContainText("System server");
  await expect(drawer.getByText("Message-ID")).toBeVisible();
  // A SENT message offers the employee no action (R23: cancel only while queued or retrying).
  await expect(drawer.getByRole("button", { name: "Cancel sending" })).toHaveCount(0);
  await expect(drawer.getByRole("button", { name: "Purge content" })).toHaveCount(0);
  g.check();
});

// SPEC §6: a system administrator filters by tenant and status; the detail
// shows the resolution and offers purge (R25).
test("messages: a system administrator filters by status and sees the resolution", async ({ page }) => {
  const s = await sentMessage("admin");
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/messages?tenant=${encodeURIComponent(s.tenantId)}`);
  await expect(page.getByRole("row").filter({ hasText: s.subject })).toBeVisible();

  await page.getByRole("combobox", { name: "Status", exact: true }).click();
  await page.getByRole("option", { name: "Cancelled" }).click();
  await expect(page.getByText("No messages.")).toBeVisible();

  await page.getByRole("combobox", { name: "Status", exact: true }).click();
  await page.getByRole("option", { name: "Sent" }).click();
  const row = page.getByRole("row").filter({ hasText: s.subject });
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: s.subject }).click();
  const drawer = page.getByRole("dialog", { name: "Message" });
  await expect(drawer.getByTestId("message-resolution")).toBeVisible();
  await expect(drawer.getByRole("button", { name: "Purge content" })).toBeVisible();
  g.check();
});

// Auditors read everything and change nothing: no action buttons.
test("messages: an auditor reads a message but gets no actions", async ({ page }) => {
  const s = await sentMessage("aud");
  const g = await guard(page);
  await signIn(page, env.auditorToken);
  await page.goto(`/messages?tenant=${encodeURIComponent(s.tenantId)}`);
  await page.getByRole("row").filter({ hasText: s.subject }).getByRole("button", { name: s.subject }).click();
  const drawer = page.getByRole("dialog", { name: "Message" });
  await expect(drawer.getByTestId("message-status")).toHaveText("Sent");
  await expect(drawer.getByRole("button", { name: "Purge content" })).toHaveCount(0);
  g.check();
});

// R23: a RETRYING message (its tenant's server refuses connections) shows
// its temporary failure in the attempt log, and its sender cancels it:
// CANCELLED, final, the button gone.
test("messages: the sender cancels a RETRYING message (R23)", async ({ page }) => {
  const s = await sentMessage("cancel");
  // The tenant's own server on a closed loopback port: every attempt is
  // refused, a temporary failure (R23), so the message waits RETRYING.
  await gql(
    env.adminToken,
    `mutation($t: ID!, $input: ServerSettingsInput!) { configureTenantServer(tenantId: $t, input: $input) { id } }`,
    { t: s.tenantId, input: { host: "127.0.0.1", port: 1, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example" } },
  );
  const subject = `Warteschlange ${Date.now().toString(36)}`;
  const m = await gql<{ sendMessage: { id: string } }>(
    s.token,
    `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
    { input: { from: "noreply@absender.example", to: ["wartet@example.org"], subject, text: "Hallo" } },
  );
  const id = m.sendMessage.id;
  await expect
    .poll(async () => (await gql<{ message: { status: string } }>(env.adminToken, `query($id: ID!) { message(id: $id) { status } }`, { id })).message.status, {
      timeout: 30_000,
    })
    .toBe("RETRYING");

  const g = await guard(page);
  await signIn(page, s.token);
  await page.goto("/messages");
  await page.getByRole("row").filter({ hasText: subject }).getByRole("button", { name: subject }).click();
  const drawer = page.getByRole("dialog", { name: "Message" });
  await expect(drawer.getByTestId("message-status")).toHaveText("Retrying");
  await expect(drawer.getByRole("table", { name: "Delivery attempts" })).toContainText("Temporary failure");
  await expect(drawer.getByTestId("message-last-error")).toBeVisible();
  await expect(drawer.getByRole("button", { name: "Retry now" })).toBeVisible();
  await drawer.getByRole("button", { name: "Cancel sending" }).click();
  await expect(drawer.getByTestId("message-status")).toHaveText("Cancelled");
  await expect(drawer.getByText("The message was cancelled; nothing more is sent.")).toBeVisible();
  await expect(drawer.getByRole("button", { name: "Cancel sending" })).toHaveCount(0);
  g.check();
});

// SPEC §6: both pages in German, every word in the catalogue.
test("messages: the Kommunikationsmanager and Nachrichten in German have every word", async ({ page }) => {
  const s = await sentMessage("de");
  const g = await guard(page);
  await signIn(page, s.token, "de");
  await page.getByRole("navigation").getByRole("link", { name: "Kommunikationsmanager" }).click();
  await expect(page.getByRole("heading", { name: "Kommunikationsmanager" })).toBeVisible();
  await expect(page.getByRole("combobox", { name: "Absenderadresse" })).toBeVisible();
  await expect(page.getByRole("combobox", { name: "Antwortadresse" })).toBeVisible();
  await page.getByRole("navigation").getByRole("link", { name: "Nachrichten" }).click();
  await page.getByRole("row").filter({ hasText: s.subject }).getByRole("button", { name: s.subject }).click();
  await expect(page.getByRole("dialog", { name: "Nachricht" }).getByRole("table", { name: "Zustellversuche" })).toBeVisible();
  g.check();
});
