import { useQuery, useSubscription } from "urql";

import { type ConnectionStore, useConnectionState } from "../api/connection";
import { InventoryChangedSubscription, MeQuery } from "../api/operations";
import { DEMO_USERS } from "../auth/tokens";
import { Cart } from "./Cart";
import { Catalog } from "./Catalog";
import { Orders } from "./Orders";
import { Recommendations } from "./Recommendations";

interface Props {
  connection: ConnectionStore;
  userId: string;
  onSwitchUser(userId: string): void;
}

export function Shop({ connection, userId, onSwitchUser }: Props) {
  const [me] = useQuery({ query: MeQuery });
  // Stock changes from anyone's checkout or an admin restock; the cache applies them to
  // every product shown (api/cache.ts).
  useSubscription({ query: InventoryChangedSubscription });
  const state = useConnectionState(connection);

  return (
    <div className="shop">
      <header className="topbar">
        <h1>shopgraph</h1>
        <span className={`live live-${state}`} data-testid="connection" data-state={state}>
          {state === "live" ? "● live" : state === "connecting" ? "○ connecting…" : "○ offline"}
        </span>
        <label className="user">
          Signed in as{" "}
          <select
            value={userId}
            onChange={(event) => onSwitchUser(event.target.value)}
            aria-label="Demo user"
          >
            {DEMO_USERS.map((user) => (
              <option key={user.id} value={user.id}>
                {user.label}
              </option>
            ))}
          </select>
          <small>(dev sign-in)</small>
        </label>
        {me.error && <p className="error">{me.error.message}</p>}
      </header>
      <main className="layout">
        <div className="content">
          <Recommendations />
          <Catalog />
        </div>
        <aside className="sidebar">
          <Cart />
          <Orders isAdmin={me.data?.me?.isAdmin ?? false} />
        </aside>
      </main>
    </div>
  );
}
