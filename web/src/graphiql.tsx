import "graphiql/style.css";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { StrictMode, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { setupI18n } from "./i18n";
import { getToken, looksLikeToken, setToken } from "./lib/token";

// The GraphQL IDE at /graphiql, bundled (nothing from a CDN). It sends the
// console session's token with every request (the token never appears in
// GraphiQL's headers editor), or asks for one in a masked field and keeps
// it only once the server accepted it (SPEC §6).
const i18n = setupI18n();
const t = (key: string) => i18n.t(key);
document.documentElement.lang = i18n.language;

async function accepted(token: string): Promise<boolean> {
  const r = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ principal { role } }" }),
  });
  const body = (await r.json().catch(() => null)) as { data?: { principal?: { role: string } } } | null;
  return !!body?.data?.principal?.role;
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<"invalid" | "refused" | null>(null);
  return (
    <main style={{ fontFamily: "sans-serif", maxWidth: "28em", margin: "4em auto", lineHeight: 1.5 }}>
      <h1>{t("nav.graphiql")}</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const tok = value.trim();
          if (!looksLikeToken(tok)) return setError("invalid");
          if (!(await accepted(tok))) return setError("refused");
          setToken(tok);
          onToken(tok);
        }}
      >
        <label htmlFor="token" style={{ display: "block", fontWeight: "bold" }}>
          {t("signIn.token")}
        </label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          autoFocus
          value={value}
          aria-invalid={!!error}
          aria-describedby={error ? "token-error" : undefined}
          onChange={(e) => {
            setValue(e.currentTarget.value);
            setError(null);
          }}
          style={{ width: "100%", padding: "0.4em", margin: "0.3em 0" }}
        />
        {error && (
          <p id="token-error" role="alert" style={{ color: "#c92a2a", margin: "0.2em 0" }}>
            {t(`signIn.${error}`)}
          </p>
        )}
        <button type="submit">{t("signIn.submit")}</button>
      </form>
      <p>
        <a href="/">{t("graphiql.console")}</a>
      </p>
    </main>
  );
}

function IDE() {
  const [token, setTok] = useState<string | null>(getToken());
  const fetcher = useMemo(
    () =>
      token
        ? createGraphiQLFetcher({
            url: "/graphql",
            subscriptionUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
            headers: { Authorization: `Bearer ${token}` },
            wsConnectionParams: { Authorization: `Bearer ${token}` },
          })
        : null,
    [token],
  );
  if (!token || !fetcher) return <TokenForm onToken={setTok} />;
  return (
    <div style={{ display: "flex", flexDirection: "column", height: "100vh" }}>
      <nav style={{ display: "flex", gap: "1em", padding: "0.3em 1em", fontFamily: "sans-serif", fontSize: "0.9em" }} aria-label="Absender">
        <a href="/">{t("graphiql.console")}</a>
        <button
          type="button"
          onClick={() => {
            setToken(null);
            setTok(null);
          }}
        >
          {t("graphiql.changeToken")}
        </button>
      </nav>
      <div style={{ flex: 1, minHeight: 0 }}>
        <GraphiQL fetcher={fetcher} />
      </div>
    </div>
  );
}

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <IDE />
  </StrictMode>,
);
