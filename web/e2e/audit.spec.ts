import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";

// The audit and history page (SPEC §3 audit log, §6): the log newest first
// with field changes, and "as of" a time a user's options then and now.

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function tenantWithUser(name: string) {
  const s = unique();
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `${name} ${s}`,
  });
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!, $e: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Erika Alt", email: $e, role: EMPLOYEE) { id } }`,
    { t: t.createTenant.id, l: `audit.${s}`, e: `erika.${s}@audit.example` },
  );
  return { tenantId: t.createTenant.id, userId: u.createUser.id, s };
}

// Sending, and with it every option list, needs the system server (R1):
// leave it as the suite wants it (the SMTP test server, enabled).
async function systemSenderAddress(): Promise<string> {
  const q = await gql<{ systemMailServer: { configured: boolean; enabled: boolean; settings: { senderAddress: string } | null } }>(
    env.adminToken,
    `{ systemMailServer { configured enabled settings { senderAddress } } }`,
  );
  const sm = q.systemMailServer;
  if (sm.configured && sm.enabled && sm.settings) return sm.settings.senderAddress;
  const r = await gql<{ configureSystemServer: { settings: { senderAddress: string } } }>(
    env.adminToken,
    `mutation($h: String!, $p: Int!) { configureSystemServer(input: { host: $h, port: $p, encryption: NONE, auth: NONE, senderAddress: "absender@e2e.example", senderName: "Absender" }) { settings { senderAddress } } }`,
    { h: env.smtpHost, p: env.smtpPort },
  );
  await gql(env.adminToken, `mutation { setSystemServerEnabled(enabled: true) { enabled } }`);
  return r.configureSystemServer.settings.senderAddress;
}

// A moment as <input type="datetime-local"> wants it, in the browser's
// time zone.
function localInput(page: Page, ms: number): Promise<string> {
  return page.evaluate((ms) => {
    const d = new Date(ms);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);
}

test("audit log: a change's entry is at the top, newest first, with its field changes (SPEC §3, §6)", async ({ page }) => {
  const { tenantId, userId } = await tenantWithUser("Audit GmbH");
  await gql(env.adminToken, `mutation($u: ID!) { updateUser(userId: $u, displayName: "Erika Neu") { id } }`, { u: userId });
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/audit?tenant=${encodeURIComponent(tenantId)}`);
  const log = page.getByRole("table", { name: "Audit log" });
  const top = log.getByRole("row").nth(1); // row 0 is the header
  await expect(top).toContainText("UserUpdated");
  await expect(top).toContainText("displayName: Erika Alt → Erika Neu");
  // Newest first: the user's creation and the tenant's come after it.
  await expect(log.getByRole("row").nth(2)).toContainText("UserCreated");
  await expect(log.getByRole("row").nth(2)).toContainText("displayName: — → Erika Alt");
  await expect(log.getByRole("row").last()).toContainText("TenantCreated");

  // One object's history: its stream id as the filter.
  const stream = (await top.getByRole("button").first().textContent())!.trim();
  await top.getByRole("button", { name: stream }).click();
  await expect(page.getByLabel("Object (stream)")).toHaveValue(stream);
  await expect(log.getByRole("row")).toHaveCount(3);
  await expect(log.getByRole("row").nth(1)).toContainText("UserUpdated");
  g.check();
});

test("as of a time: a mailbox added since is among the user's sender options now, not then (R13, SPEC §6)", async ({ page }) => {
  const system = await systemSenderAddress();
  const { tenantId, userId, s } = await tenantWithUser("Historie AG");
  // The noted time: the next full second, after the user was created and
  // before the mailbox is.
  const noted = Math.floor(Date.now() / 1000) * 1000 + 1000;
  await expect.poll(() => Date.now()).toBeGreaterThan(noted);
  const address = `vertrieb.${s}@audit.example`;
  await gql(
    env.adminToken,
    `mutation($t: ID!, $a: String!) { addMailbox(tenantId: $t, address: $a, displayName: "Vertrieb", sender: true, replyTo: false) { id } }`,
    { t: tenantId, a: address },
  );
  expect(userId).toBeTruthy();

  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/audit?tenant=${encodeURIComponent(tenantId)}`);
  await page.getByLabel("As of", { exact: true }).fill(await localInput(page, noted));
  await page.getByRole("combobox", { name: "User", exact: true }).fill("Erika");
  await page.getByRole("option", { name: /Erika Alt/ }).click();

  const now = page.getByRole("region", { name: "Now" });
  const nowSenders = now.getByRole("table", { name: "Sender addresses" });
  await expect(nowSenders).toContainText(address);
  await expect(nowSenders).toContainText(system);

  const then = page.getByRole("region", { name: /^As of .*\d/ });
  const thenSenders = then.getByRole("table", { name: "Sender addresses" });
  await expect(thenSenders).toContainText(system); // loaded …
  await expect(thenSenders.getByText(address)).toHaveCount(0); // … without the mailbox

  // The mailbox's access now: every active user of the tenant (R11).
  await page.getByRole("combobox", { name: "Mailbox", exact: true }).fill("Vertrieb");
  await page.getByRole("option", { name: /Vertrieb/ }).click();
  await expect(now.getByRole("list", { name: "Who may use the mailbox" })).toContainText("Erika Alt");
  await expect(then.getByText("Nobody")).toBeVisible(); // it did not exist yet
  g.check();
});

// auditLog's rule (R19): a tenant administrator reads the own tenant's log
// only, without a tenant picker; the page offers nothing to change.
test("a tenant administrator sees the own tenant's audit log only (R19)", async ({ page }) => {
  const own = await tenantWithUser("Eigen KG");
  const other = await tenantWithUser("Fremd KG");
  const admin = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Ada Admin", email: "ada@eigen.example", role: ADMINISTRATOR) { id } }`,
    { t: own.tenantId, l: `ada.${own.s}` },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, {
    u: admin.createUser.id,
  });
  const g = await guard(page);
  await signIn(page, tok.issueApiToken);
  await page.getByRole("navigation").getByRole("link", { name: "Audit and history" }).click();
  const log = page.getByRole("table", { name: "Audit log" });
  await expect(log.getByRole("button", { name: `user-${admin.createUser.id}` })).toBeVisible();
  await expect(log.getByRole("button", { name: `user-${own.userId}` })).toBeVisible();
  await expect(log.getByRole("button", { name: `user-${other.userId}` })).toHaveCount(0);
  await expect(page.getByRole("combobox", { name: "Tenant", exact: true })).toHaveCount(0);
  g.check();
});

// Auditors read everything (SPEC §1); the page in German, every word in
// the catalogue.
test("an auditor reads the audit log in German", async ({ page }) => {
  const { tenantId } = await tenantWithUser("Prüfung GmbH");
  const g = await guard(page);
  await signIn(page, env.auditorToken, "de");
  await page.goto(`/audit?tenant=${encodeURIComponent(tenantId)}`);
  await expect(page.getByRole("heading", { name: "Protokoll und Historie" })).toBeVisible();
  const log = page.getByRole("table", { name: "Protokoll" });
  await expect(log.getByRole("row").nth(1)).toContainText("UserCreated");
  await expect(page.getByLabel("Stand vom", { exact: true })).toBeVisible();
  g.check();
});

// Connections page (SPEC §4): 50 entries, then "load more" after the last.
test("audit log: load more continues with older entries", async ({ page }) => {
  const { tenantId, s } = await tenantWithUser("Viele GmbH");
  for (let batch = 0; batch < 6; batch++) {
    const fields = Array.from({ length: 10 }, (_, i) => {
      const n = batch * 10 + i;
      return `u${n}: createUser(tenantId: $t, loginName: "viele.${s}.${n}", displayName: "Nutzer ${n}", email: "n${n}.${s}@viele.example", role: EMPLOYEE) { id }`;
    });
    await gql(env.adminToken, `mutation($t: ID!) { ${fields.join("\n")} }`, { t: tenantId });
  }
  // 1 tenant + 1 user + 60 users = 62 entries.
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/audit?tenant=${encodeURIComponent(tenantId)}`);
  const log = page.getByRole("table", { name: "Audit log" });
  await expect(page.getByText("50 of 62 entries")).toBeVisible();
  await expect(log.getByRole("row")).toHaveCount(51);
  await expect(log.getByRole("row").nth(1)).toContainText("Nutzer 59");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(page.getByText("62 of 62 entries")).toBeVisible();
  await expect(log.getByRole("row")).toHaveCount(63);
  await expect(log.getByRole("row").last()).toContainText("TenantCreated");
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
  g.check();
});
