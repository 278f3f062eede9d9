/** Where the API lives: set VITE_API_URL at build time (default: a local `make run`). */
export const API_URL = (import.meta.env.VITE_API_URL || "http://127.0.0.1:8000").replace(/\/+$/, "");
export const GRAPHQL_URL = `${API_URL}/graphql`;
export const GRAPHQL_WS_URL = GRAPHQL_URL.replace(/^http/, "ws");
/** Dev sign-in: where demo tokens come from (VITE_DEV_TOKENS_URL; default: the API's own
 * dev-only endpoint). The browser tests point it at a dev server while the app talks to a
 * production-mode API that trusts that server's key. */
export const DEV_TOKENS_URL = import.meta.env.VITE_DEV_TOKENS_URL || `${API_URL}/dev/tokens`;

/** Product images may be paths on the API (`/media/...`): make them absolute. */
export function mediaUrl(path: string | null | undefined): string | undefined {
  if (!path) return undefined;
  return /^https?:\/\//.test(path) ? path : `${API_URL}${path}`;
}
