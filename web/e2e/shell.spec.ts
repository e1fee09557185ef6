import { expect, test } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";

// SPEC §6: sign-in with a token, the pages by role, no network beyond
// Absender, both languages.
test("a system administrator signs in and sees the administrator pages", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.adminToken);
  const nav = page.getByRole("navigation");
  for (const name of ["E-mail server", "Tenants", "Additional mailboxes", "Users and groups", "Messages", "Audit and history"]) {
    await expect(nav.getByRole("link", { name })).toBeVisible();
  }
  g.check();
});

test("a wrong token is refused at the sign-in form", async ({ page }) => {
  await page.goto("/");
  await page.evaluate(() => localStorage.setItem("absender.language", "en"));
  await page.reload();
  await page.getByLabel("API token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("This is not an API token")).toBeVisible();
});

test("a token the server refuses (R21: unknown) ends at the sign-in form, saying so", async ({ page }) => {
  await page.goto("/");
  await page.evaluate(() => localStorage.setItem("absender.language", "en"));
  await page.reload();
  await page.getByLabel("API token").fill("abs_0000_notarealsecret");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByText("The token was refused.")).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
});

test("an employee sees no administrator pages", async ({ page }) => {
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation { createTenant(name: "Shell GmbH") { id } }`);
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!) { createUser(tenantId: $t, loginName: "shell.emp", displayName: "Erika Shell", email: "erika@shell.example", role: EMPLOYEE) { id } }`,
    { t: t.createTenant.id },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "e2e") }`, {
    u: u.createUser.id,
  });
  const g = await guard(page);
  await signIn(page, tok.issueApiToken);
  const nav = page.getByRole("navigation");
  await expect(nav.getByRole("link", { name: "Communication manager" })).toBeVisible();
  for (const name of ["E-mail server", "Tenants", "Additional mailboxes", "Users and groups", "Audit and history"]) {
    await expect(nav.getByRole("link", { name })).toHaveCount(0);
  }
  await page.goto("/tenants");
  await expect(page.getByText("This page does not exist.")).toBeVisible();
  g.check();
});

test("/graphiql is served by Absender and asks the API with the session's token", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto("/graphiql");
  await expect(page.locator(".graphiql-container")).toBeVisible();
  g.check();
});
