import { expect, test, type Page } from "@playwright/test";
import { env, gql, guard, signIn } from "./env";
import { de as deCommon, en as enCommon } from "../src/i18n/common";

const deCodes = deCommon.code;
const enCodes = enCommon.code;

// SPEC §6: every page renders in German and in English without a missing
// catalogue key, for each role that sees it, with data on it (a tenant
// with a user, a group and a mailbox), and loads nothing from outside
// Absender. SCREENSHOTS=<dir> also saves each page as a PNG (make
// console-screenshots writes docs/console/).
const pages = [
  { path: "/mail-server", en: "E-mail server", de: "E-Mail-Server" },
  { path: "/tenants", en: "Tenants", de: "Mandanten" },
  { path: "/mailboxes", en: "Additional mailboxes", de: "Zusätzliche Postfächer" },
  { path: "/users", en: "Users and groups", de: "Benutzer und Gruppen" },
  { path: "/compose", en: "Communication manager", de: "Kommunikationsmanager" },
  { path: "/messages", en: "Messages", de: "Nachrichten" },
  { path: "/audit", en: "Audit and history", de: "Protokoll und Historie" },
];

interface Fixture {
  tenantId: string;
  ownerToken: string;
  adminToken: string;
  employeeToken: string;
}

async function fixture(): Promise<Fixture> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const t = await gql<{ createTenant: { id: string } }>(env.adminToken, `mutation($n: String!) { createTenant(name: $n) { id } }`, {
    n: `Rundgang ${suffix} GmbH`,
  });
  const tenantId = t.createTenant.id;
  const mk = async (login: string, role: string) => {
    const u = await gql<{ createUser: { id: string } }>(
      env.adminToken,
      `mutation($t: ID!, $l: String!, $e: String!, $r: Role!) { createUser(tenantId: $t, loginName: $l, displayName: $l, email: $e, role: $r) { id } }`,
      { t: tenantId, l: `${login}.${suffix}`, e: `${login}.${suffix}@rundgang.example`, r: role },
    );
    const tok = await gql<{ issueApiToken: string }>(env.adminToken, `mutation($u: ID!) { issueApiToken(userId: $u, name: "walk") }`, {
      u: u.createUser.id,
    });
    return { id: u.createUser.id, token: tok.issueApiToken };
  };
  const owner = await mk("inhaberin", "LEGAL_REPRESENTATIVE");
  const administrator = await mk("verwalter", "ADMINISTRATOR");
  const employee = await mk("mitarbeiter", "EMPLOYEE");
  const g = await gql<{ createGroup: { id: string } }>(env.adminToken, `mutation($t: ID!) { createGroup(tenantId: $t, name: "Vertrieb") { id } }`, {
    t: tenantId,
  });
  await gql(env.adminToken, `mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: g.createGroup.id, u: employee.id });
  await gql(
    env.adminToken,
    `mutation($t: ID!) { addMailbox(tenantId: $t, address: "info@rundgang.example", displayName: "Info", sender: true, replyTo: true) { id } }`,
    { t: tenantId },
  );
  return { tenantId, ownerToken: owner.token, adminToken: administrator.token, employeeToken: employee.token };
}

async function walk(page: Page, role: string, token: string, tenantId: string | null, expected: string[]) {
  for (const lang of ["de", "en"] as const) {
    const g = await guard(page);
    await signIn(page, token, lang);
    const nav = page.getByRole("navigation");
    for (const p of pages) {
      const link = nav.getByRole("link", { name: p[lang], exact: true });
      if (!expected.includes(p.path)) {
        await expect(link, `${role} must not see ${p.path}`).toHaveCount(0);
        continue;
      }
      await expect(link).toBeVisible();
      await page.goto(p.path + (tenantId ? `?tenant=${encodeURIComponent(tenantId)}` : ""));
      await expect(page.getByRole("heading", { level: 2, name: p[lang], exact: true })).toBeVisible();
      // Let the page's queries settle, so every state it renders is seen.
      await page.waitForLoadState("networkidle");
      await expect(page.getByRole("status").filter({ hasText: lang === "de" ? "Wird geladen" : "Loading" })).toHaveCount(0);
      // No error in place of the page (a refused query, a broken page).
      const codes = Object.values(lang === "de" ? deCodes : enCodes);
      for (const alert of await page.getByRole("alert").allInnerTexts()) {
        expect(codes.some((c) => alert.includes(c)), `${role} ${p.path} (${lang}) shows an error: ${alert}`).toBe(false);
      }
      // The screenshots in docs/console: a system administrator's pages
      // and the employee's Kommunikationsmanager, in German.
      const dir = process.env.SCREENSHOTS;
      if (dir && lang === "de" && (role === "system-admin" || (role === "employee" && p.path === "/compose"))) {
        await page.screenshot({ path: `${dir}/${role}${p.path.replace(/\//g, "-")}.png`, fullPage: true });
      }
    }
    g.check();
    await page.getByRole("button", { name: lang === "de" ? "Abmelden" : "Sign out" }).click();
  }
}

test("every page in both languages, for every role, without a missing key (SPEC §6)", async ({ page }) => {
  const f = await fixture();
  await walk(page, "system-admin", env.adminToken, f.tenantId, ["/mail-server", "/tenants", "/mailboxes", "/users", "/messages", "/audit"]);
  await walk(page, "auditor", env.auditorToken, f.tenantId, ["/mail-server", "/tenants", "/mailboxes", "/users", "/messages", "/audit"]);
  await walk(page, "owner", f.ownerToken, null, ["/mail-server", "/mailboxes", "/users", "/compose", "/messages", "/audit"]);
  await walk(page, "administrator", f.adminToken, null, ["/mail-server", "/mailboxes", "/users", "/compose", "/messages", "/audit"]);
  await walk(page, "employee", f.employeeToken, null, ["/compose", "/messages"]);
});
