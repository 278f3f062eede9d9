import { DEV_TOKENS_URL } from "../config";

/**
 * Where the client gets session tokens. Anything with this shape works: Clerk's
 * `useAuth().getToken` in production (see docs/client.md), the dev endpoint below in dev.
 * `getToken()` must always answer a token that is still valid (refreshing as needed).
 */
export interface TokenSource {
  getToken(): Promise<string | null>;
}

export interface DemoUser {
  id: string;
  label: string;
}

/** The demo users the API seeds (services/seed.py); /dev/tokens signs for no one else. */
export const DEMO_USERS: readonly DemoUser[] = [
  { id: "user_demo_shopper", label: "Demo Shopper" },
  { id: "user_demo_alex", label: "Alex Rivera" },
  { id: "user_demo_sam", label: "Sam Okafor" },
  { id: "user_demo_admin", label: "Demo Admin (admin)" },
];

// Fetch a new token this long before the current one expires.
const REFRESH_MARGIN_SECONDS = 120;

/**
 * Dev only: tokens from the API's `POST /dev/tokens`, which exists only when the API runs
 * with ENV=dev and no Clerk key. Cached until shortly before they expire.
 */
export function devTokenSource(userId: string): TokenSource {
  let current: { token: string; expiresAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    const response = await fetch(DEV_TOKENS_URL, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId }),
    });
    if (!response.ok) {
      throw new Error(
        `POST ${DEV_TOKENS_URL} answered ${response.status}: dev tokens exist only ` +
          "when the API runs with ENV=dev and no Clerk key",
      );
    }
    const body = (await response.json()) as { token: string; expiresAt: number };
    current = body;
    return body.token;
  }

  return {
    getToken() {
      const now = Date.now() / 1000;
      if (current && current.expiresAt - now > REFRESH_MARGIN_SECONDS) {
        return Promise.resolve(current.token);
      }
      pending ??= fetchToken().finally(() => {
        pending = null;
      });
      return pending;
    },
  };
}
