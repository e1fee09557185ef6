import { expect, test } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";

// The Tenants page (SPEC §6): system administrators create, search and set
// a tenant's policy; auditors read the same with nothing to change.

test("Tenants: create a tenant, find it by search and set its mailbox quota to 3 (R10)", async ({ page }) => {
  const name = `Kontingent GmbH ${Date.now()}`;
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.getByRole("navigation").getByRole("link", { name: "Tenants" }).click();
  await page.getByLabel("Name of the new tenant").fill(name);
  await page.getByRole("button", { name: "Create tenant" }).click();
  const detail = page.getByRole("region", { name: `Tenant ${name}` });
  await expect(detail).toBeVisible();

  await page.getByLabel("Search", { exact: true }).fill(name);
  const table = page.getByRole("table", { name: "Tenants" });
  await expect(table.getByRole("row")).toHaveCount(2);
  await expect(table.getByRole("button", { name })).toBeVisible();
  await expect(page.getByText("Page 1: 1 of 1")).toBeVisible();

  const policy = detail.getByRole("region", { name: "Policy" });
  await expect(policy.getByLabel("Mailbox quota")).toHaveValue("1");
  await policy.getByLabel("Mailbox quota").fill("3");
  await policy.getByRole("button", { name: "Save" }).click();
  await expect(policy.getByText("Saved.")).toBeVisible();
  const stored = await gql<{ tenants: { edges: { node: { policy: { mailboxQuota: number } } }[] } }>(
    env.adminToken,
    `query($s: String) { tenants(search: $s) { edges { node { policy { mailboxQuota } } } } }`,
    { s: name },
  );
  expect(stored.tenants.edges.map((e) => e.node.policy.mailboxQuota)).toEqual([3]);
  await expect(table.getByTestId("quota")).toHaveText("3");

  // The chosen tenant is in the URL: a reload shows it again, with the stored quota.
  expect(new URL(page.url()).searchParams.get("tenant")).toBeTruthy();
  await page.reload();
  await expect(page.getByRole("region", { name: `Tenant ${name}` }).getByLabel("Mailbox quota")).toHaveValue("3");
  g.check();
});

test("Tenants: an auditor sees the list and a tenant with no create or edit buttons", async ({ page }) => {
  const name = `Prüfer AG ${Date.now()}`;
  await gql(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: name });
  const g = await guard(page);
  await signIn(page, env.auditorToken);
  await page.getByRole("navigation").getByRole("link", { name: "Tenants" }).click();
  await expect(page.getByRole("button", { name: "Create tenant" })).toHaveCount(0);
  await page.getByLabel("Search", { exact: true }).fill(name);
  const table = page.getByRole("table", { name: "Tenants" });
  await table.getByRole("button", { name }).click();
  const detail = page.getByRole("region", { name: `Tenant ${name}` });
  await expect(detail.getByRole("region", { name: "Policy" })).toBeVisible();
  await expect(detail.getByRole("switch", { name: "May have its own mail server" })).toBeDisabled();
  for (const button of ["Save", "Create tenant", "Remove own server", "Check connection"]) {
    await expect(page.getByRole("button", { name: button })).toHaveCount(0);
  }
  g.check();
});
