import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";

// SPEC §6 "Users and groups", R18–R21, through the console as a system
// administrator. Every test makes its own tenant and login names.

const run = Date.now().toString(36);

async function newTenant(name: string): Promise<string> {
  const r = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `${name} ${run}`,
  });
  return r.createTenant.id;
}

async function createUserThroughPage(page: Page, login: string, name: string, email: string, role: string) {
  await page.getByRole("button", { name: "New user" }).click();
  const dialog = page.getByRole("dialog", { name: "New user" });
  await dialog.getByLabel("Login name").fill(login);
  await dialog.getByLabel("Display name").fill(name);
  await dialog.getByLabel("E-mail address").fill(email);
  await dialog.getByRole("combobox", { name: "Role" }).click();
  await page.getByRole("option", { name: role, exact: true }).click();
  await dialog.getByRole("button", { name: "Save" }).click();
  return dialog;
}

test("users: create with roles, duplicate login name, search, block, token shown once and revoked (R18, R20, R21)", async ({ page }) => {
  const tenantId = await newTenant("Users GmbH");
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/users?tenant=${tenantId}`);
  await expect(page.getByRole("heading", { name: "Users and groups" })).toBeVisible();
  await expect(page.getByText("No users found.")).toBeVisible();

  // R18: users get tenant roles, chosen on the page.
  const erika = `erika.${run}`;
  const max = `max.${run}`;
  let dialog = await createUserThroughPage(page, erika, "Erika Muster", "erika@users.example", "Legal representative (owner)");
  await expect(dialog).toHaveCount(0);
  dialog = await createUserThroughPage(page, max, "Max Extern", "max@users.example", "External");
  await expect(dialog).toHaveCount(0);
  const erikaRow = page.getByTestId(`user-${erika}`);
  const maxRow = page.getByTestId(`user-${max}`);
  await expect(erikaRow).toContainText("Legal representative (owner)");
  await expect(maxRow).toContainText("External");
  await expect(page.getByText("1–2 of 2")).toBeVisible();

  // R18: login names are unique system-wide; ALREADY_EXISTS under the field.
  dialog = await createUserThroughPage(page, erika, "Erika Zwei", "erika2@users.example", "Employee");
  const login = dialog.getByLabel("Login name");
  await expect(login).toHaveAttribute("aria-invalid", "true");
  await expect(login).toHaveAccessibleDescription(/This already exists/);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);

  // Search finds one.
  await page.getByLabel("Search users").fill("Extern");
  await expect(maxRow).toBeVisible();
  await expect(erikaRow).toHaveCount(0);
  await page.getByLabel("Search users").fill("");
  await expect(erikaRow).toBeVisible();

  // R20: block a user; it is shown blocked.
  await page.getByRole("button", { name: "Block Max Extern", exact: true }).click();
  await expect(maxRow).toContainText("Blocked");
  await expect(page.getByRole("button", { name: "Unblock Max Extern", exact: true })).toBeVisible();
  await expect(erikaRow).toContainText("Active");

  // R21: a token is shown once, works, is listed without its secret, and is revoked.
  await page.getByRole("button", { name: "API tokens of Erika Muster" }).click();
  const tokens = page.getByRole("dialog", { name: "API tokens of Erika Muster" });
  await expect(tokens.getByText("No tokens.")).toBeVisible();
  await tokens.getByLabel("Token name").fill("e2e app");
  await tokens.getByRole("button", { name: "Issue token" }).click();
  const shown = page.getByRole("dialog", { name: "New API token" });
  await expect(shown.getByText("it will not be shown again")).toBeVisible();
  await expect(shown.getByRole("button", { name: "Copy" })).toBeVisible();
  const token = await shown.getByLabel("New token").inputValue();
  expect(token).toMatch(/^abs_[^_]+_.+/);
  const who = await gql<{ principal: { role: string; user: { loginName: string } } }>(token, `{ principal { role user { loginName } } }`);
  expect(who.principal).toEqual({ role: "LEGAL_REPRESENTATIVE", user: { loginName: erika } });
  await shown.getByRole("button", { name: "Done" }).click();
  const listed = page.getByRole("dialog", { name: "API tokens of Erika Muster" });
  await expect(listed.getByRole("cell", { name: "e2e app", exact: true })).toBeVisible();
  await expect(listed.getByText(token)).toHaveCount(0);
  await listed.getByRole("button", { name: "Revoke token e2e app" }).click();
  await expect(listed.getByText("No tokens.")).toBeVisible();
  await expect(gql(token, `{ principal { role } }`)).rejects.toThrow();
  await page.keyboard.press("Escape");
  await expect(listed).toHaveCount(0);
  g.check();
});

test("groups: create a group, add a member, see it listed (R18)", async ({ page }) => {
  const tenantId = await newTenant("Gruppen GmbH");
  const login = `gruppe.user.${run}`;
  await gql(env.adminToken, `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Greta Gruppe", email: "greta@groups.example", role: EMPLOYEE) { id } }`, {
    t: tenantId,
    l: login,
  });
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/users?tenant=${tenantId}`);
  await page.getByRole("tab", { name: "Groups" }).click();
  await expect(page.getByText("No groups found.")).toBeVisible();
  await page.getByLabel("Group name").fill("Vertrieb");
  await page.getByRole("button", { name: "Create group" }).click();
  const row = page.getByTestId("group-Vertrieb");
  await expect(row).toBeVisible();
  await expect(row.getByRole("cell").nth(1)).toHaveText("0");

  await row.getByRole("button", { name: "Members of Vertrieb" }).click();
  const dialog = page.getByRole("dialog", { name: "Members of Vertrieb" });
  await expect(dialog.getByText("No members yet.")).toBeVisible();
  await dialog.getByRole("combobox", { name: "User to add" }).fill("Greta");
  await page.getByRole("option", { name: `Greta Gruppe (${login})` }).click();
  await dialog.getByRole("button", { name: "Add member" }).click();
  await expect(dialog.getByRole("cell", { name: "Greta Gruppe", exact: true })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(row.getByRole("cell").nth(1)).toHaveText("1");

  // The user's row names the group.
  await page.getByRole("tab", { name: "Users" }).click();
  await expect(page.getByTestId(`user-${login}`)).toContainText("Vertrieb");
  g.check();
});

test("users: an auditor reads users, groups and tokens but gets no controls (R19)", async ({ page }) => {
  const tenantId = await newTenant("Prüfung GmbH");
  const login = `pruef.${run}`;
  await gql(env.adminToken, `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Paul Prüfling", email: "paul@audit.example", role: EMPLOYEE) { id } }`, {
    t: tenantId,
    l: login,
  });
  const g = await guard(page);
  await signIn(page, env.auditorToken);
  await page.goto(`/users?tenant=${tenantId}`);
  await expect(page.getByTestId(`user-${login}`)).toBeVisible();
  await expect(page.getByRole("button", { name: "New user" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Edit Paul Prüfling" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Block Paul Prüfling", exact: true })).toHaveCount(0);
  await page.getByRole("button", { name: "API tokens of Paul Prüfling" }).click();
  const tokens = page.getByRole("dialog", { name: "API tokens of Paul Prüfling" });
  await expect(tokens.getByText("No tokens.")).toBeVisible();
  await expect(tokens.getByRole("button", { name: "Issue token" })).toHaveCount(0);
  await page.keyboard.press("Escape");
  await page.getByRole("tab", { name: "Groups" }).click();
  await expect(page.getByLabel("Group name")).toHaveCount(0);
  g.check();
});

test("users: an administrator is offered tokens and roles only within R21", async ({ page }) => {
  const tenantId = await newTenant("Hierarchie GmbH");
  const mk = (l: string, n: string, role: string) =>
    gql<{ createUser: { id: string } }>(
      env.adminToken,
      `mutation($t: ID!, $l: String!, $n: String!, $r: Role!) { createUser(tenantId: $t, loginName: $l, displayName: $n, email: "${l}@hier.example", role: $r) { id } }`,
      { t: tenantId, l: `${l}.${run}`, n, r: role },
    );
  await mk("owner", "Olga Owner", "LEGAL_REPRESENTATIVE");
  const admin = await mk("admin", "Adam Admin", "ADMINISTRATOR");
  await mk("emp", "Emil Employee", "EMPLOYEE");
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, { u: admin.createUser.id });
  const g = await guard(page);
  await signIn(page, tok.issueApiToken);
  await page.goto("/users");
  await expect(page.getByTestId(`user-owner.${run}`)).toBeVisible();
  // The owner: no tokens, no edit, no block for an administrator.
  await expect(page.getByRole("button", { name: "API tokens of Olga Owner" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Edit Olga Owner" })).toHaveCount(0);
  // An employee and the administrator itself: tokens.
  await expect(page.getByRole("button", { name: "API tokens of Emil Employee" })).toBeVisible();
  await expect(page.getByRole("button", { name: "API tokens of Adam Admin" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Block Adam Admin", exact: true })).toHaveCount(0);
  // New users: only EMPLOYEE and EXTERNAL.
  await page.getByRole("button", { name: "New user" }).click();
  await page.getByRole("dialog", { name: "New user" }).getByRole("combobox", { name: "Role" }).click();
  await expect(page.getByRole("option")).toHaveText(["Employee", "External"]);
  g.check();
});

test("users: edit, delete with confirmation, pages of 25, and in German (R18)", async ({ page }) => {
  const tenantId = await newTenant("Seiten GmbH");
  const ids: string[] = [];
  for (let i = 0; i < 27; i++) {
    const n = String(i).padStart(2, "0");
    const r = await gql<{ createUser: { id: string } }>(
      env.adminToken,
      `mutation($t: ID!, $l: String!, $n: String!) { createUser(tenantId: $t, loginName: $l, displayName: $n, email: "seite${n}@pages.example", role: EMPLOYEE) { id } }`,
      { t: tenantId, l: `seite${n}.${run}`, n: `Seite ${n}` },
    );
    ids.push(r.createUser.id);
  }
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/users?tenant=${tenantId}`);
  await expect(page.getByText("1–25 of 27")).toBeVisible();
  await expect(page.getByTestId(`user-seite26.${run}`)).toHaveCount(0);
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page.getByText("26–27 of 27")).toBeVisible();
  await expect(page.getByTestId(`user-seite26.${run}`)).toBeVisible();

  // Edit: name and role; the login name stays.
  await page.getByRole("button", { name: "Edit Seite 26" }).click();
  const edit = page.getByRole("dialog", { name: "Edit Seite 26" });
  await expect(edit.getByLabel("Login name")).toBeDisabled();
  await edit.getByLabel("Display name").fill("Seite Sechsundzwanzig");
  await edit.getByRole("combobox", { name: "Role" }).click();
  await page.getByRole("option", { name: "Administrator", exact: true }).click();
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(edit).toHaveCount(0);
  const row = page.getByTestId(`user-seite26.${run}`);
  await expect(row).toContainText("Seite Sechsundzwanzig");
  await expect(row).toContainText("Administrator");

  // Delete asks first; cancel keeps the user.
  await page.getByRole("button", { name: "Delete Seite Sechsundzwanzig" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete user" });
  await expect(confirm).toContainText(`seite26.${run}`);
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toBeVisible();
  await page.getByRole("button", { name: "Delete Seite Sechsundzwanzig" }).click();
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(row).toHaveCount(0);
  await expect(page.getByText("26–26 of 26")).toBeVisible();

  // The page in German, with the tokens dialog and the groups tab (no missing words).
  await page.getByText("Deutsch", { exact: true }).click();
  await expect(page.getByRole("heading", { name: "Benutzer und Gruppen" })).toBeVisible();
  await page.getByRole("button", { name: "API-Tokens von Seite 25" }).click();
  await expect(page.getByRole("dialog", { name: "API-Tokens von Seite 25" }).getByText("Keine Tokens.")).toBeVisible();
  await page.keyboard.press("Escape");
  await page.getByRole("tab", { name: "Gruppen" }).click();
  await expect(page.getByText("Keine Gruppen gefunden.")).toBeVisible();
  g.check();
});
