import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWSClient } from "graphql-ws";
import { getToken } from "./token";

// One urql client per sign-in: queries and mutations over POST /graphql
// with the bearer token, subscriptions (messageStatus, events) over
// graphql-transport-ws with the token in connection_init.
// dispose closes the WebSocket when the session ends (sign-out, another
// token).
export function makeClient(token: string): { client: Client; dispose: () => void } {
  const wsURL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const ws = createWSClient({
    url: wsURL,
    connectionParams: () => ({ Authorization: `Bearer ${getToken() ?? token}` }),
    lazy: true,
    retryAttempts: 5,
  });
  const client = new Client({
    url: "/graphql",
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
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
