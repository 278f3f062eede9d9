import { useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";

import {
  OrderStatusChangedSubscription,
  OrdersQuery,
  UpdateOrderStatusMutation,
} from "../api/operations";
import { describeUserErrors, formatMoney } from "../format";
import type { OrderStatus } from "../gql/graphql";

// What an admin may move an order to (the server's state machine has the final word).
const NEXT: Record<OrderStatus, OrderStatus[]> = {
  PENDING: ["CONFIRMED", "CANCELLED"],
  CONFIRMED: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED"],
  DELIVERED: [],
  CANCELLED: [],
};

/**
 * Recent orders (an admin sees everyone's). Status changes arrive over the websocket
 * (orderStatusChanged) and update the order in the cache, so the list follows along live.
 */
export function Orders({ isAdmin }: { isAdmin: boolean }) {
  const [{ data, error }] = useQuery({ query: OrdersQuery, variables: { first: 5 } });
  useSubscription({ query: OrderStatusChangedSubscription });
  const orders = data?.orders.edges.map((edge) => edge.node) ?? [];

  return (
    <section className="panel orders" aria-labelledby="orders-title" data-testid="orders">
      <header className="panel-header">
        <h2 id="orders-title">{isAdmin ? "All recent orders" : "Your orders"}</h2>
      </header>
      {error && <p className="error">{error.message}</p>}
      {data && orders.length === 0 && <p className="muted">No orders yet.</p>}
      <ul className="orders-list">
        {orders.map((order) => (
          <li key={order.id} data-testid="order" data-order-id={order.id}>
            <div className="order-head">
              <span className={`status status-${order.status.toLowerCase()}`} data-testid="order-status">
                {order.status}
              </span>
              <span className="amount">{formatMoney(order.total)}</span>
            </div>
            <p className="muted">
              {order.items.map((item) => `${item.quantity} × ${item.productName}`).join(", ")}
              {isAdmin && order.user ? ` · ${order.user.name}` : ""}
            </p>
            {isAdmin && <AdminActions id={order.id} status={order.status} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function AdminActions({ id, status }: { id: string; status: OrderStatus }) {
  const [state, updateOrderStatus] = useMutation(UpdateOrderStatusMutation);
  const [problem, setProblem] = useState<string | null>(null);

  async function move(next: OrderStatus) {
    setProblem(null);
    const result = await updateOrderStatus({ id, status: next });
    const errors = result.data?.updateOrderStatus.userErrors ?? [];
    if (result.error) setProblem(result.error.message);
    else if (errors.length) setProblem(describeUserErrors(errors));
  }

  return (
    <div className="actions">
      {NEXT[status].map((next) => (
        <button type="button" key={next} disabled={state.fetching} onClick={() => move(next)}>
          {next === "CANCELLED" ? "Cancel" : `Mark ${next.toLowerCase()}`}
        </button>
      ))}
      {problem && <p className="error">{problem}</p>}
    </div>
  );
}
