import { useEffect, useState } from "react";
import { Provider } from "urql";

import { type Api, createApi } from "../api/client";
import { DEMO_USERS, devTokenSource } from "../auth/tokens";
import { Shop } from "./Shop";

const USER_KEY = "shopgraph.devUser";

function initialUser(): string {
  const fromUrl = new URLSearchParams(window.location.search).get("user");
  const stored = fromUrl ?? window.localStorage.getItem(USER_KEY);
  return DEMO_USERS.some((u) => u.id === stored) ? stored! : DEMO_USERS[0]!.id;
}

/**
 * One API client per signed-in user: switching users drops the old client (its cache and
 * its websocket) so nothing of one user's data can show up for the next.
 *
 * Dev sign-in: tokens for the seeded demo users from the API's dev endpoint. In production
 * replace `devTokenSource(userId)` with Clerk's `getToken` (docs/client.md).
 */
export function App() {
  const [userId, setUserId] = useState(initialUser);
  const [session, setSession] = useState<{ userId: string; api: Api } | null>(null);

  useEffect(() => {
    window.localStorage.setItem(USER_KEY, userId);
    const api = createApi(devTokenSource(userId));
    setSession({ userId, api });
    return () => api.dispose();
  }, [userId]);

  if (!session || session.userId !== userId) return null;
  return (
    <Provider value={session.api.client}>
      <Shop connection={session.api.connection} userId={userId} onSwitchUser={setUserId} />
    </Provider>
  );
}
