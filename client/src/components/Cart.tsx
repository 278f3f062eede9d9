import { useState } from "react";
import { useMutation, useQuery } from "urql";

import { CartQuery, CheckoutMutation, UpdateCartItemMutation } from "../api/operations";
import { describeUserErrors, formatMoney, newIdempotencyKey } from "../format";

type Notice = { kind: "ok" | "error"; text: string };

/**
 * The cart and checkout. Each intended order gets one idempotency key: a checkout that
 * failed in transit is retried with the same key, so it can never order twice; once the
 * server has answered (an order, or a reason why not) the next attempt gets a new key.
 */
export function Cart() {
  const [{ data, error }] = useQuery({ query: CartQuery });
  const [, updateCartItem] = useMutation(UpdateCartItemMutation);
  const [checkoutState, checkout] = useMutation(CheckoutMutation);
  const [pendingKey, setPendingKey] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const cart = data?.cart;

  async function setQuantity(productId: string, quantity: number) {
    const result = await updateCartItem({ productId, quantity });
    const errors = result.data?.updateCartItem.userErrors ?? [];
    if (result.error) setNotice({ kind: "error", text: result.error.message });
    else if (errors.length) setNotice({ kind: "error", text: describeUserErrors(errors) });
  }

  async function placeOrder() {
    const key = pendingKey ?? newIdempotencyKey();
    setPendingKey(key);
    setNotice(null);
    const result = await checkout({ input: { idempotencyKey: key } });
    if (result.error) {
      setNotice({ kind: "error", text: `${result.error.message} Retrying is safe.` });
      return;
    }
    setPendingKey(null);
    const payload = result.data?.checkout;
    if (payload?.order) {
      setNotice({ kind: "ok", text: `Order placed: ${formatMoney(payload.order.total)}` });
    } else {
      setNotice({ kind: "error", text: describeUserErrors(payload?.userErrors ?? []) });
    }
  }

  return (
    <section className="panel cart" aria-labelledby="cart-title" data-testid="cart">
      <header className="panel-header">
        <h2 id="cart-title">Cart</h2>
        <span className="badge" data-testid="cart-count">
          {cart?.itemCount ?? 0}
        </span>
      </header>
      {error && <p className="error">{error.message}</p>}
      {cart && cart.lines.length === 0 && <p className="muted">Your cart is empty.</p>}
      <ul className="lines">
        {cart?.lines.map((line) => (
          <li key={line.product.id} data-testid="cart-line">
            <span className="name">{line.product.name}</span>
            <span className="qty">
              <button
                type="button"
                aria-label={`One less ${line.product.name}`}
                onClick={() => setQuantity(line.product.id, line.quantity - 1)}
              >
                −
              </button>
              {line.quantity}
              <button
                type="button"
                aria-label={`One more ${line.product.name}`}
                onClick={() => setQuantity(line.product.id, line.quantity + 1)}
              >
                +
              </button>
            </span>
            <span className="amount">{formatMoney(line.lineTotal)}</span>
          </li>
        ))}
      </ul>
      {cart && cart.lines.length > 0 && (
        <footer className="cart-footer">
          <span>
            Subtotal <strong data-testid="subtotal">{formatMoney(cart.subtotal)}</strong>
          </span>
          <button type="button" className="primary" onClick={placeOrder} disabled={checkoutState.fetching}>
            {pendingKey && !checkoutState.fetching ? "Retry checkout" : "Check out"}
          </button>
        </footer>
      )}
      {notice && (
        <p className={notice.kind} role="status" data-testid="checkout-notice">
          {notice.text}
        </p>
      )}
    </section>
  );
}
