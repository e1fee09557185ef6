// The API token is kept for the browser session only (SPEC §6): in
// sessionStorage, gone when the tab closes. The console and /graphiql
// share it (same origin, same tab).
const KEY = "absender.token";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

// A token looks like abs_<id>_<secret> (R21); anything else is refused
// before it is sent.
export function looksLikeToken(s: string): boolean {
  return /^abs_[A-Za-z0-9-]+_[A-Za-z0-9_-]+$/.test(s.trim());
}
