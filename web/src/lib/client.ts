import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from "urql";
import { createClient as createWSClient } from "graphql-ws";

// One urql client per sign-in: queries and mutations over POST /graphql
// with the bearer token, subscriptions (messageStatus, events) over
// graphql-transport-ws with the token in connection_init.
//
// onUnauthenticated runs when any answer says the token is no longer
// valid (revoked, its user blocked: R20, R21) — not only the first query —
// or the WebSocket is closed for that reason, so the session ends instead
// of every page showing "not signed in". dispose closes the WebSocket when
// the session ends.
export function makeClient(token: string, onUnauthenticated: () => void): { client: Client; dispose: () => void } {
  const wsURL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const ws = createWSClient({
    url: wsURL,
    connectionParams: () => ({ Authorization: `Bearer ${token}` }),
    lazy: true,
    retryAttempts: 5,
    on: {
      closed: (event) => {
        const code = (event as CloseEvent | undefined)?.code;
        if (code === 4401 || code === 4403) onUnauthenticated();
      },
    },
  });
  const client = new Client({
    url: "/graphql",
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      mapExchange({
        onError(error) {
          if (error.graphQLErrors.some((e) => e.extensions?.code === "UNAUTHENTICATED")) onUnauthenticated();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
    fetchOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
  });
  return { client, dispose: () => void ws.dispose() };
}
