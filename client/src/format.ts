/** Display only: amounts stay exact decimal strings everywhere else (totals come from the API). */
export function formatMoney(money: { amount: string; currency: string }): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency }).format(
    Number(money.amount),
  );
}

/** A fresh idempotency key (a UUID v4) for one intended order. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not (e.g. http://192.168.x.x).
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Expected failures of a mutation (payload userErrors) as one line for the shopper. */
export function describeUserErrors(errors: readonly { message: string }[]): string {
  return errors.map((e) => e.message).join(" ");
}
