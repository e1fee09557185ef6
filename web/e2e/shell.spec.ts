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

test("a token revoked during the session ends it at the next request (R21), not only at sign-in", async ({ page }) => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `Widerruf ${suffix} GmbH`,
  });
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Rita Widerruf", email: "rita@widerruf.example", role: EMPLOYEE) { id } }`,
    { t: t.createTenant.id, l: `rita.${suffix}` },
  );
  const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "revoked") }`, {
    u: u.createUser.id,
  });
  await signIn(page, tok.issueApiToken);
  const list = await gql<{ apiTokens: { id: string }[] }>(env.adminToken, `query($u: ID!) { apiTokens(userId: $u) { id } }`, { u: u.createUser.id });
  await gql(env.adminToken, `mutation($id: ID!) { revokeApiToken(tokenId: $id) }`, { id: list.apiTokens[0].id });
  // Move to another page inside the app (no reload): its query is the
  // next request with the revoked token.
  await page.evaluate(() => {
    history.pushState({}, "", "/messages");
    dispatchEvent(new PopStateEvent("popstate"));
  });
  await expect(page.getByText("The token was refused.")).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  expect(await page.evaluate(() => sessionStorage.getItem("absender.token"))).toBeNull();
});

test("an employee sees no administrator pages", async ({ page }) => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `Shell ${suffix} GmbH`,
  });
  const u = await gql<{ createUser: { id: string } }>(
    env.adminToken,
    `mutation($t: ID!, $l: String!) { createUser(tenantId: $t, loginName: $l, displayName: "Erika Shell", email: "erika@shell.example", role: EMPLOYEE) { id } }`,
    { t: t.createTenant.id, l: `shell.emp.${suffix}` },
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

test("/graphiql is served by Absender and asks the API with the session's token (SPEC §6)", async ({ page }) => {
  const g = await guard(page);
  await signIn(page, env.adminToken);
  // GraphiQL asks for the schema as soon as it loads: with the token, and
  // the server answers (introspection needs a valid token, R34).
  const asked = page.waitForRequest((r) => r.url().endsWith("/graphql") && r.method() === "POST");
  await page.goto("/graphiql");
  const req = await asked;
  expect(req.headers()["authorization"]).toBe(`Bearer ${env.adminToken}`);
  const res = await req.response();
  expect(((await res!.json()) as { data?: { __schema?: unknown } }).data?.__schema).toBeTruthy();
  await expect(page.locator(".graphiql-container")).toBeVisible();
  // The token is not shown anywhere on the page.
  await expect(page.locator("body")).not.toContainText(env.adminToken);
  g.check();
});

test("/graphiql without a session asks for a token in a masked field and keeps only one the server accepts", async ({ page }) => {
  const g = await guard(page);
  await page.goto("/graphiql");
  await page.evaluate(() => localStorage.setItem("absender.language", "en"));
  await page.reload();
  const field = page.getByLabel("API token");
  await expect(field).toHaveAttribute("type", "password");
  await field.fill("abs_0000_notarealsecret");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("The token was refused.");
  expect(await page.evaluate(() => sessionStorage.getItem("absender.token"))).toBeNull();
  await field.fill(env.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(".graphiql-container")).toBeVisible();
  await page.getByRole("button", { name: "Use another token" }).click();
  await expect(page.getByLabel("API token")).toBeVisible();
  g.check();
});
