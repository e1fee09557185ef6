import { AppShell, Burger, Button, Group, NavLink, SegmentedControl, Stack, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { BrowserRouter, Navigate, NavLink as RouterLink, Route, Routes, useLocation } from "react-router";
import { Provider, useQuery } from "urql";
import { changeLanguage, type Language } from "./i18n";
import { makeClient } from "./lib/client";
import { PrincipalQuery, SessionContext, pagesFor, type Page, type Session } from "./lib/session";
import { getToken, setToken } from "./lib/token";
import { ErrorAlert, Loading } from "./lib/ui";
import { SignIn } from "./pages/SignIn";
import { MailServerPage } from "./pages/MailServer";
import { TenantsPage } from "./pages/Tenants";
import { MailboxesPage } from "./pages/Mailboxes";
import { UsersPage } from "./pages/Users";
import { ComposePage } from "./pages/Compose";
import { MessagesPage } from "./pages/Messages";
import { AuditPage } from "./pages/Audit";

export const routes: Record<Page, { path: string; element: React.ReactNode }> = {
  mailServer: { path: "/mail-server", element: <MailServerPage /> },
  tenants: { path: "/tenants", element: <TenantsPage /> },
  mailboxes: { path: "/mailboxes", element: <MailboxesPage /> },
  users: { path: "/users", element: <UsersPage /> },
  compose: { path: "/compose", element: <ComposePage /> },
  messages: { path: "/messages", element: <MessagesPage /> },
  audit: { path: "/audit", element: <AuditPage /> },
};

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t("language")}
      value={i18n.language}
      onChange={(v) => void changeLanguage(v as Language)}
      data={[
        { value: "de", label: "Deutsch" },
        { value: "en", label: "English" },
      ]}
    />
  );
}

export function App() {
  const [token, setTok] = useState<string | null>(getToken());
  // Why the sign-in form shows again: the server refused the token.
  const [refused, setRefused] = useState(false);
  const signOut = useCallback((wasRefused = false) => {
    setToken(null);
    setTok(null);
    setRefused(wasRefused);
  }, []);
  if (!token) {
    return (
      <SignIn
        refused={refused}
        onSignedIn={(tok) => {
          setToken(tok);
          setTok(tok);
          setRefused(false);
        }}
      />
    );
  }
  return <SignedIn key={token} token={token} signOut={signOut} />;
}

function SignedIn({ token, signOut }: { token: string; signOut: (refused?: boolean) => void }) {
  // The client lives as long as this effect: created and disposed together,
  // so React's development double-mount cannot leave a disposed one behind.
  const [conn, setConn] = useState<ReturnType<typeof makeClient> | null>(null);
  useEffect(() => {
    const c = makeClient(token, () => signOut(true));
    setConn(c);
    return c.dispose;
  }, [token, signOut]);
  if (!conn) return null;
  return (
    <Provider value={conn.client}>
      <BrowserRouter>
        <Shell token={token} signOut={signOut} />
      </BrowserRouter>
    </Provider>
  );
}

function Shell({ token, signOut }: { token: string; signOut: (refused?: boolean) => void }) {
  const { t } = useTranslation();
  const [opened, { toggle }] = useDisclosure();
  const [{ data, fetching, error }] = useQuery({ query: PrincipalQuery, requestPolicy: "network-only" });
  const location = useLocation();
  // A refused token (wrong, revoked, its user blocked: R20) ends the session.
  const unauth = !!error?.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  useEffect(() => {
    if (unauth) signOut(true);
  }, [unauth, signOut]);
  if (unauth) return null;
  if (fetching && !data) return <Loading />;
  if (error || !data) {
    return (
      <Stack p="xl">
        <ErrorAlert error={error} />
        <Button onClick={() => signOut()} w="fit-content">
          {t("signOut")}
        </Button>
      </Stack>
    );
  }
  const p = data.principal;
  const session: Session = {
    token,
    role: p.role,
    tenantId: p.tenantId ?? null,
    tokenName: p.tokenName,
    user: p.user ? { id: p.user.id, displayName: p.user.displayName, loginName: p.user.loginName, email: p.user.email } : null,
    signOut: () => signOut(),
  };
  const pages = pagesFor(p.role, !!p.user);
  const name = p.user?.displayName ?? p.tokenName;
  return (
    <SessionContext.Provider value={session}>
      <AppShell header={{ height: 56 }} navbar={{ width: 260, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("menu")} />
              <Title order={3}>{t("appName")}</Title>
            </Group>
            <Group wrap="nowrap">
              <Text size="sm" visibleFrom="md" data-testid="signed-in-as">
                {t("signedInAs", { name, role: t(`role.${p.role}`) })}
              </Text>
              <LanguageSwitch />
              <Button variant="default" size="xs" onClick={() => signOut()}>
                {t("signOut")}
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" component="nav" aria-label={t("appName")}>
          {pages.map((pg) => (
            <NavLink
              key={pg}
              component={RouterLink}
              to={routes[pg].path + (location.search.includes("tenant=") ? keepTenant(location.search) : "")}
              label={t(`nav.${pg}`)}
              active={location.pathname === routes[pg].path}
            />
          ))}
          <NavLink href="/graphiql" label={t("nav.graphiql")} />
        </AppShell.Navbar>
        <AppShell.Main>
          <Routes>
            <Route
              path="/"
              element={pages.length ? <Navigate to={routes[pages[0]].path} replace /> : <Text role="status">{t("noPages", { role: t(`role.${p.role}`) })}</Text>}
            />
            {pages.map((pg) => (
              <Route key={pg} path={routes[pg].path} element={routes[pg].element} />
            ))}
            <Route path="*" element={<Text role="alert">{t("notFoundPage")}</Text>} />
          </Routes>
        </AppShell.Main>
      </AppShell>
    </SessionContext.Provider>
  );
}

// A system administrator's chosen tenant follows from page to page.
function keepTenant(search: string): string {
  const id = new URLSearchParams(search).get("tenant");
  return id ? `?tenant=${encodeURIComponent(id)}` : "";
}
