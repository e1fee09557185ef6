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

test("Tenants: a system administrator configures a tenant's server, which is ignored while the policy allows no own server and used again when allowed (R2, R3)", async ({ page }) => {
  await gql(env.adminToken, `mutation($i: ServerSettingsInput!) { configureSystemServer(input: $i) { configured } setSystemServerEnabled(enabled: true) { enabled } }`, {
    i: { host: env.smtpHost, port: env.smtpPort, encryption: "NONE", auth: "NONE", senderAddress: "noreply@absender.example" },
  });
  const name = `Richtlinie KG ${Date.now()}`;
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, { n: name });
  const g = await guard(page);
  await signIn(page, env.adminToken);
  await page.goto(`/tenants?tenant=${encodeURIComponent(t.createTenant.id)}`);
  const detail = page.getByRole("region", { name: `Tenant ${name}` });
  await expect(detail.getByText("System server", { exact: true })).toBeVisible();

  const server = detail.getByRole("region", { name: "Tenant mail server" });
  await server.getByLabel("Authentication").click();
  await page.getByRole("option", { name: "None", exact: true }).click();
  await server.getByLabel("Encryption").click();
  await page.getByRole("option", { name: "None", exact: true }).click();
  await server.getByLabel("Host").fill(env.smtpHost);
  await server.getByLabel("Port", { exact: true }).fill(String(env.smtpPort));
  await server.getByLabel("Sender address").fill("info@richtlinie.example");
  await server.getByRole("button", { name: "Save" }).click();
  await expect(server.getByText("Saved.")).toBeVisible();
  await expect(detail.getByText("Tenant server", { exact: true })).toBeVisible();

  const policy = detail.getByRole("region", { name: "Policy" });
  const own = policy.getByRole("switch", { name: "May have its own mail server" });
  await own.click();
  await policy.getByRole("button", { name: "Save" }).click();
  await expect(policy.getByText("Saved.")).toBeVisible();
  await expect(server.getByText("A server configured earlier is kept but not used.")).toBeVisible();
  await expect(detail.getByText("System server", { exact: true })).toBeVisible();

  await own.click();
  await policy.getByRole("button", { name: "Save" }).click();
  await expect(detail.getByText("Tenant server", { exact: true })).toBeVisible();
  await expect(server.getByLabel("Host")).toHaveValue(env.smtpHost);
  g.check();
});
