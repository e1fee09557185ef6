import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";
import { fillAdd, type Flags } from "./mailbox";

// Zusätzliche Postfächer (SPEC §6, seed 001) as a system administrator:
// R9 (the four check boxes, errors at their field), R10 (quota), R11
// (restriction to a group), R12 (Global set by a system administrator).

const unique = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function tenant(name: string, quota?: number): Promise<string> {
  const r = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: name });
  const id = r.createTenant.id;
  if (quota !== undefined) {
    await gql(env.adminToken, `mutation($t: ID!, $q: Int) { setTenantPolicy(tenantId: $t, mailboxQuota: $q) { id } }`, { t: id, q: quota });
  }
  return id;
}

async function open(page: Page, tenantId: string) {
  await signIn(page, env.adminToken);
  await page.goto(`/mailboxes?tenant=${encodeURIComponent(tenantId)}`);
  await expect(page.getByRole("heading", { name: "Additional mailboxes" })).toBeVisible();
}

async function expectListed(page: Page, address: string, name: string, f: Flags) {
  const row = page.getByRole("row").filter({ hasText: address });
  await expect(row).toHaveCount(1);
  const cells = row.getByRole("cell");
  await expect(cells.nth(0)).toHaveText(address);
  await expect(cells.nth(1)).toHaveText(name);
  const want = [f.sender, f.replyTo, f.global, f.authenticated].map((b) => (b ? "yes" : "no"));
  for (let i = 0; i < 4; i++) await expect(cells.nth(2 + i), `flag ${i} of ${address}`).toHaveText(want[i]);
}

test("R9 R12: mailboxes added with the four check boxes are listed with those flags", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Postfach GmbH ${unique()}`, 3);
  await open(page, id);
  await expect(page.getByText("0 of 3 mailboxes used")).toBeVisible();

  const plain: Flags = { sender: true, replyTo: false, global: false, authenticated: false };
  let dialog = await fillAdd(page, "info@postfach.example", "Postfach Info", plain);
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expectListed(page, "info@postfach.example", "Postfach Info", plain);

  // R12: Global, set by a system administrator, with Antwort only.
  const global: Flags = { sender: false, replyTo: true, global: true, authenticated: false };
  dialog = await fillAdd(page, "antwort@postfach.example", "Antwort global", global);
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expectListed(page, "antwort@postfach.example", "Antwort global", global);

  // "mit Authentifizierung": its own server (the SMTP test server), checked
  // before it is saved.
  const auth: Flags = { sender: true, replyTo: true, global: false, authenticated: true };
  dialog = await fillAdd(page, "vertrieb@postfach.example", "Vertrieb", auth);
  await dialog.getByLabel("Encryption").click();
  await page.getByRole("option", { name: "None", exact: true }).click();
  await dialog.getByRole("textbox", { name: "Host" }).fill(env.smtpHost);
  await dialog.getByRole("textbox", { name: "Port", exact: true }).fill(String(env.smtpPort));
  await dialog.getByLabel("Sender address").fill("vertrieb@postfach.example");
  await dialog.getByRole("button", { name: "Check connection" }).click();
  await expect(dialog.getByText("Connection works")).toBeVisible();
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expectListed(page, "vertrieb@postfach.example", "Vertrieb", auth);
  await expect(page.getByText("3 of 3 mailboxes used")).toBeVisible();

  // The API agrees: settings present = authenticated.
  const r = await gql<{ tenant: { mailboxes: { edges: { node: { address: string; authenticated: boolean; settings: { host: string } | null } }[] } } }>(
    env.adminToken,
    `query($t: ID!) { tenant(id: $t) { mailboxes { edges { node { address authenticated settings { host } } } } } }`,
    { t: id },
  );
  const v = r.tenant.mailboxes.edges.find((e) => e.node.address === "vertrieb@postfach.example")!.node;
  expect(v.authenticated).toBe(true);
  expect(v.settings?.host).toBe(env.smtpHost);

  // Searching narrows the list.
  await page.getByLabel("Search mailboxes").fill("vertrieb");
  await expect(page.getByRole("row").filter({ hasText: "info@postfach.example" })).toHaveCount(0);
  await expect(page.getByRole("row").filter({ hasText: "vertrieb@postfach.example" })).toHaveCount(1);
  g.check();
});

test("R10 §6: at the default quota of 1 Add is disabled with the quota note; a quota lowered while the form is open is refused in the form", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Kontingent GmbH ${unique()}`);
  await open(page, id);
  await expect(page.getByText("0 of 1 mailboxes used")).toBeVisible();
  const f: Flags = { sender: true, replyTo: true, global: false, authenticated: false };
  let dialog = await fillAdd(page, "eins@kontingent.example", "Eins", f);
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expectListed(page, "eins@kontingent.example", "Eins", f);
  await expect(page.getByText("1 of 1 mailboxes used")).toBeVisible();

  // §6 no button that can only fail: Add stays, disabled, the note its description.
  const addButton = page.getByRole("button", { name: "+ Add e-mail address" });
  await expect(addButton).toBeDisabled();
  await expect(addButton).toHaveAccessibleDescription("The quota is used up: a system administrator can allow more mailboxes.");
  await addButton.click({ force: true });
  await expect(page.getByRole("dialog", { name: "Add e-mail address" })).toHaveCount(0);

  // Another administrator lowers the quota while the form is open: the
  // server's QUOTA_EXCEEDED shows in the form.
  await gql(env.adminToken, `mutation($t: ID!, $q: Int) { setTenantPolicy(tenantId: $t, mailboxQuota: $q) { id } }`, { t: id, q: 2 });
  await page.reload();
  await expect(page.getByText("1 of 2 mailboxes used")).toBeVisible();
  dialog = await fillAdd(page, "zwei@kontingent.example", "Zwei", f);
  await gql(env.adminToken, `mutation($t: ID!, $q: Int) { setTenantPolicy(tenantId: $t, mailboxQuota: $q) { id } }`, { t: id, q: 1 });
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog.getByRole("alert")).toContainText("The quota is used up.");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("row").filter({ hasText: "zwei@kontingent.example" })).toHaveCount(0);
  g.check();
});

test("R9: an invalid address shows its error under the address field; a duplicate is ALREADY_EXISTS there", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Adresse GmbH ${unique()}`, 2);
  await open(page, id);
  const f: Flags = { sender: true, replyTo: false, global: false, authenticated: false };
  let dialog = await fillAdd(page, "kein-at-zeichen", "Falsch", f);
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  const address = dialog.getByLabel("E-mail address");
  await expect(address).toHaveAttribute("aria-invalid", "true");
  await expect(address).toHaveAccessibleDescription(/Invalid input/);
  await expect(dialog.getByRole("alert")).toHaveCount(0);
  await address.fill("richtig@adresse.example");
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog).toBeHidden();

  dialog = await fillAdd(page, "RICHTIG@adresse.example", "Doppelt", f);
  await dialog.getByRole("button", { name: "Add", exact: true }).click();
  await expect(dialog.getByLabel("E-mail address")).toHaveAccessibleDescription(/This already exists/);
  g.check();
});

test("R11: a mailbox restricted to a group lists the grant; opening it says it revokes the grants", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Gruppe GmbH ${unique()}`);
  const group = `Vertrieb ${unique()}`;
  await gql(env.adminToken, `mutation($t: ID!, $n: String!) { createGroup(tenantId: $t, name: $n) { id } }`, { t: id, n: group });
  const m = await gql<{ addMailbox: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!) { addMailbox(tenantId: $t, address: "team@gruppe.example", displayName: "Team", sender: true, replyTo: true) { id } }`,
    { t: id },
  );
  expect(m.addMailbox.id).toBeTruthy();
  await open(page, id);
  await page.getByRole("button", { name: "Access: team@gruppe.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Access to team@gruppe.example" });
  await expect(dialog.getByTestId("access-state")).toContainText("Not restricted");

  await dialog.getByLabel("User group").click();
  await dialog.getByLabel("User group").fill(group.slice(0, 8));
  await page.getByRole("option", { name: group }).click();
  await dialog.getByRole("button", { name: "+ Add user group" }).click();
  await expect(dialog.getByRole("list", { name: "User groups" })).toContainText(group);
  await expect(dialog.getByTestId("access-state")).toContainText("Restricted: only the users and groups below");

  // Opening asks first and says the remaining grant goes with it (R11).
  // By keyboard (§6): Enter opens the confirm with focus on its Cancel, Tab
  // reaches its Open button, Escape closes it and focus returns.
  const openButton = dialog.getByRole("button", { name: "Open to everyone" });
  await openButton.focus();
  await page.keyboard.press("Enter");
  const confirm = page.getByRole("dialog", { name: "Open this mailbox to everyone?" });
  await expect(confirm).toContainText("The remaining grants (1) are revoked in the same step.");
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(confirm.getByRole("button", { name: "Open to everyone" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(confirm).toHaveCount(0);
  await expect(openButton).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(confirm).toHaveCount(0);
  await expect(openButton).toBeFocused();
  await expect(dialog.getByRole("list", { name: "User groups" })).toContainText(group);

  await dialog.getByRole("button", { name: "Close" }).click();
  const row = page.getByRole("row").filter({ hasText: "team@gruppe.example" });
  await expect(row.getByRole("cell").nth(6)).toHaveText("yes");
  g.check();
});

test("R9: editing a mailbox changes its flags; unticking mit Authentifizierung removes its own settings", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Bearbeiten GmbH ${unique()}`);
  await gql(
    env.adminToken,
    `mutation($t: ID!, $s: ServerSettingsInput) { addMailbox(tenantId: $t, address: "post@bearbeiten.example", displayName: "Post", sender: true, replyTo: false, settings: $s) { id } }`,
    { t: id, s: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "post@bearbeiten.example" } },
  );
  await open(page, id);
  await expectListed(page, "post@bearbeiten.example", "Post", { sender: true, replyTo: false, global: false, authenticated: true });

  await page.getByRole("button", { name: "Edit: post@bearbeiten.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Edit post@bearbeiten.example" });
  await expect(dialog.getByRole("textbox", { name: "Host" })).toHaveValue(env.smtpHost);
  // the stored settings, checked as they are
  await dialog.getByRole("button", { name: "Check connection" }).click();
  await expect(dialog.getByText("Connection works")).toBeVisible();
  await dialog.getByLabel("Display name").fill("Poststelle");
  await dialog.getByRole("checkbox", { name: "Reply", exact: true }).check();
  await dialog.getByRole("checkbox", { name: "with authentication", exact: true }).uncheck();
  await expect(dialog.getByRole("textbox", { name: "Host" })).toHaveCount(0);
  await dialog.getByRole("button", { name: "Save" }).click();
  await expect(dialog).toBeHidden();
  await expectListed(page, "post@bearbeiten.example", "Poststelle", { sender: true, replyTo: true, global: false, authenticated: false });
  const r = await gql<{ tenant: { mailboxes: { edges: { node: { authenticated: boolean; settings: unknown } }[] } } }>(
    env.adminToken,
    `query($t: ID!) { tenant(id: $t) { mailboxes { edges { node { authenticated settings { host } } } } } }`,
    { t: id },
  );
  expect(r.tenant.mailboxes.edges[0].node).toEqual({ authenticated: false, settings: null });

  // Removing asks first.
  await page.getByRole("button", { name: "Remove: post@bearbeiten.example" }).click();
  const confirm = page.getByRole("dialog", { name: "Remove post@bearbeiten.example?" });
  await confirm.getByRole("button", { name: "Remove", exact: true }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByRole("row").filter({ hasText: "post@bearbeiten.example" })).toHaveCount(0);
  await expect(page.getByText("0 of 1 mailboxes used")).toBeVisible();
  g.check();
});

test("§6: an auditor reads the mailboxes and their grants but gets no button that can only fail", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Prüfer GmbH ${unique()}`);
  const grp = await gql<{ createGroup: { id: string } }>(env.adminToken, `mutation($t: ID!) { createGroup(tenantId: $t, name: "Buchhaltung") { id } }`, { t: id });
  const m = await gql<{ addMailbox: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!) { addMailbox(tenantId: $t, address: "buchhaltung@pruefer.example", displayName: "Buchhaltung", sender: true, replyTo: true) { id } }`,
    { t: id },
  );
  await gql(env.adminToken, `mutation($m: ID!, $g: ID!) { grantGroup(mailboxId: $m, groupId: $g) { id } }`, { m: m.addMailbox.id, g: grp.createGroup.id });
  await signIn(page, env.auditorToken);
  await page.goto(`/mailboxes?tenant=${encodeURIComponent(id)}`);
  await expectListed(page, "buchhaltung@pruefer.example", "Buchhaltung", { sender: true, replyTo: true, global: false, authenticated: false });
  await expect(page.getByRole("button", { name: "+ Add e-mail address" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Remove: buchhaltung@pruefer.example" })).toHaveCount(0);
  await page.getByRole("button", { name: "Access: buchhaltung@pruefer.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Access to buchhaltung@pruefer.example" });
  await expect(dialog.getByRole("list", { name: "User groups" })).toContainText("Buchhaltung");
  await expect(dialog.getByRole("button", { name: /Revoke|Add user|Open to everyone|Restrict/ })).toHaveCount(0);
  await dialog.getByRole("button", { name: "Close" }).click();
  await page.getByRole("button", { name: "Details: buchhaltung@pruefer.example" }).click();
  const details = page.getByRole("dialog", { name: "buchhaltung@pruefer.example", exact: true });
  await expect(details.getByRole("checkbox", { name: "Sender", exact: true })).toBeDisabled();
  await expect(details.getByRole("button", { name: "Save" })).toHaveCount(0);
  g.check();
});

test("seed 001: the page in German with the seed's check boxes", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Deutsch GmbH ${unique()}`);
  await signIn(page, env.adminToken, "de");
  await page.goto(`/mailboxes?tenant=${encodeURIComponent(id)}`);
  await expect(page.getByRole("heading", { name: "Zusätzliche Postfächer" })).toBeVisible();
  await expect(page.getByText("0 von 1 Postfächern belegt")).toBeVisible();
  await page.getByRole("button", { name: "+ E-Mail-Adresse hinzufügen" }).click();
  const dialog = page.getByRole("dialog", { name: "E-Mail-Adresse hinzufügen" });
  for (const name of ["Absender", "Antwort", "Global", "mit Authentifizierung"]) {
    await expect(dialog.getByRole("checkbox", { name, exact: true })).toBeVisible();
  }
  await dialog.getByRole("checkbox", { name: "mit Authentifizierung", exact: true }).check();
  await expect(dialog.getByRole("button", { name: "Verbindung prüfen" })).toBeVisible();
  g.check();
});

test("R11 R12: a tenant administrator adds without Global, grants a user, and opening revokes the grant", async ({ page }) => {
  const g = await guard(page);
  const u = unique();
  const id = await tenant(`Verwaltung GmbH ${u}`);
  const mk = (login: string, role: string) =>
    gql<{ createUser: { id: string } }>(
      env.adminToken,
      `mutation($t: ID!, $l: String!, $r: Role!) { createUser(tenantId: $t, loginName: $l, displayName: $l, email: "x@verwaltung.example", role: $r) { id } }`,
      { t: id, l: login, r: role },
    );
  const adm = await mk(`verw.admin.${u}`, "ADMINISTRATOR");
  await mk(`verw.anna.${u}`, "EMPLOYEE");
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, { u: adm.createUser.id });
  await signIn(page, tok.issueApiToken);
  await page.getByRole("navigation").getByRole("link", { name: "Additional mailboxes" }).click();
  await expect(page.getByText("0 of 1 mailboxes used")).toBeVisible();
  await expect(page.getByLabel("Tenant")).toHaveCount(0);

  await page.getByRole("button", { name: "+ Add e-mail address" }).click();
  const add = page.getByRole("dialog", { name: "Add e-mail address" });
  await expect(add.getByRole("checkbox", { name: "Global", exact: true })).toHaveCount(0); // R12: system administrators only
  await add.getByLabel("E-mail address").fill("empfang@verwaltung.example");
  await add.getByLabel("Display name").fill("Empfang");
  await add.getByRole("button", { name: "Add", exact: true }).click();
  await expect(add).toBeHidden();

  await page.getByRole("button", { name: "Access: empfang@verwaltung.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Access to empfang@verwaltung.example" });
  await dialog.getByLabel("User (by login name)").click();
  await dialog.getByLabel("User (by login name)").fill("verw.anna");
  await page.getByRole("option", { name: new RegExp(`verw\\.anna\\.${u}`) }).click();
  await dialog.getByRole("button", { name: "+ Add user", exact: true }).click();
  await expect(dialog.getByRole("list", { name: "Users" })).toContainText(`verw.anna.${u}`);
  await expect(dialog.getByTestId("access-state")).toContainText("Restricted: only");

  await dialog.getByRole("button", { name: "Open to everyone" }).click();
  const confirm = page.getByRole("dialog", { name: "Open this mailbox to everyone?" });
  await expect(confirm).toContainText("The remaining grants (1) are revoked in the same step.");
  await confirm.getByRole("button", { name: "Open to everyone" }).click();
  await expect(dialog.getByTestId("access-state")).toContainText("Not restricted");
  await expect(dialog.getByText("No users granted.")).toBeVisible();

  // Restricting without grants: usable by nobody (R11, fail closed).
  await dialog.getByRole("button", { name: "Restrict" }).click();
  await expect(dialog.getByTestId("access-state")).toContainText("nobody may use this mailbox");
  g.check();
});

test("§6: mailboxes come in pages of 20, with the total", async ({ page }) => {
  const g = await guard(page);
  const id = await tenant(`Seiten GmbH ${unique()}`, 30);
  for (let i = 1; i <= 21; i++) {
    const n = String(i).padStart(2, "0");
    await gql(env.adminToken, `mutation($t: ID!, $a: String!, $n: String!) { addMailbox(tenantId: $t, address: $a, displayName: $n, sender: true, replyTo: false) { id } }`, {
      t: id,
      a: `box${n}@seiten.example`,
      n: `Box ${n}`,
    });
  }
  await open(page, id);
  await expect(page.getByText("21 of 30 mailboxes used")).toBeVisible();
  await expect(page.getByText("20 of 21", { exact: true })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "box21@seiten.example" })).toHaveCount(0);
  await page.getByRole("button", { name: "Next page →" }).click();
  await expect(page.getByRole("row").filter({ hasText: "box21@seiten.example" })).toHaveCount(1);
  await expect(page.getByText("21 of 21", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: "← Previous page" }).click();
  await expect(page.getByRole("row").filter({ hasText: "box01@seiten.example" })).toHaveCount(1);

  // Removing the only row of page 2 steps back to page 1, not an empty page.
  await page.getByRole("button", { name: "Next page →" }).click();
  await page.getByRole("button", { name: "Remove: box21@seiten.example" }).click();
  await page.getByRole("dialog", { name: "Remove box21@seiten.example?" }).getByRole("button", { name: "Remove", exact: true }).click();
  await expect(page.getByText("20 of 20", { exact: true })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "box01@seiten.example" })).toHaveCount(1);
  await expect(page.getByText("Nothing here yet.")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "← Previous page" })).toHaveCount(0);
  g.check();
});

test("R11: the access dialog shows the last operation's error only; a later success clears it", async ({ page }) => {
  const g = await guard(page);
  const u = unique();
  const id = await tenant(`Fehler GmbH ${u}`);
  const mk = (login: string) =>
    gql<{ createUser: { id: string } }>(
      env.adminToken,
      `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: $l, email: "x@fehler.example", role: EMPLOYEE) { id } }`,
      { t: id, l: login },
    );
  const keep = await mk(`keep.${u}`);
  const gone = await mk(`gone.${u}`);
  const m = await gql<{ addMailbox: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!) { addMailbox(tenantId: $t, address: "info@fehler.example", displayName: "Info", sender: true, replyTo: true) { id } }`,
    { t: id },
  );
  await gql(env.adminToken, `mutation($m: ID!, $u: ID!) { grantUser(mailboxId: $m, userId: $u) { id } }`, { m: m.addMailbox.id, u: keep.createUser.id });
  await open(page, id);
  await page.getByRole("button", { name: "Access: info@fehler.example" }).click();
  const dialog = page.getByRole("dialog", { name: "Access to info@fehler.example" });
  await expect(dialog.getByRole("list", { name: "Users" })).toContainText(`keep.${u}`);

  // The picked user is deleted before the grant: the grant fails.
  await dialog.getByLabel("User (by login name)").click();
  await dialog.getByLabel("User (by login name)").fill(`gone.${u}`);
  await page.getByRole("option", { name: new RegExp(`gone\\.${u}`) }).click();
  await gql(env.adminToken, `mutation($u: ID!) { deleteUser(userId: $u) }`, { u: gone.createUser.id });
  await dialog.getByRole("button", { name: "+ Add user", exact: true }).click();
  await expect(dialog.getByText("Not found.", { exact: false })).toBeVisible();

  // A later successful revoke clears the old failure.
  await dialog.getByRole("button", { name: `Revoke keep.${u}` }).click();
  await expect(dialog.getByText("No users granted.")).toBeVisible();
  await expect(dialog.getByText("Not found.", { exact: false })).toHaveCount(0);
  g.check();
});
