import "graphiql/style.css";
import { GraphiQL } from "graphiql";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { getToken, looksLikeToken, setToken } from "./lib/token";

// The GraphQL IDE at /graphiql, bundled (nothing from a CDN). It sends the
// console session's token with every request, or asks for one (SPEC §6).
function token(): string | null {
  let tok = getToken();
  while (!tok) {
    const entered = window.prompt("API token (abs_…) for /graphql — kept for this browser tab only");
    if (entered === null) return null;
    if (looksLikeToken(entered)) {
      tok = entered.trim();
      setToken(tok);
    }
  }
  return tok;
}

const tok = token();
const headers: Record<string, string> = tok ? { Authorization: `Bearer ${tok}` } : {};
const wsURL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  subscriptionUrl: wsURL,
  headers,
  wsConnectionParams: tok ? { Authorization: `Bearer ${tok}` } : {},
});

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} />
  </StrictMode>,
);
