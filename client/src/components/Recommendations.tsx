import { useState } from "react";
import { useMutation, useQuery, useSubscription } from "urql";

import {
  RecommendationsQuery,
  RecommendationsUpdatedSubscription,
  RecordInteractionMutation,
} from "../api/operations";
import { describeUserErrors } from "../format";
import type { ReportedAction } from "../gql/graphql";
import { ProductCard } from "./ProductCard";

// One stable variables object: the query and the subscription must ask for the same slate
// (api/cache.ts writes each refreshed slate into this query).
const SLATE = { first: 5, context: { page: "home", device: "desktop" } };

/**
 * A personalised slate. Ticking or crossing an item records the interaction with the
 * slate's eventId; once the model has learned from it the server pushes a fresh slate
 * (recommendationsUpdated), which replaces this one without a reload.
 */
export function Recommendations() {
  const [{ data, error, fetching }] = useQuery({ query: RecommendationsQuery, variables: SLATE });
  const [live] = useSubscription({ query: RecommendationsUpdatedSubscription, variables: SLATE });
  const [, recordInteraction] = useMutation(RecordInteractionMutation);
  const [given, setGiven] = useState<Record<string, ReportedAction>>({});
  const [problem, setProblem] = useState<string | null>(null);

  const slate = data?.recommendations;
  const refreshedLive = slate != null && live.data?.recommendationsUpdated.eventId === slate.eventId;

  async function react(productId: string, action: ReportedAction) {
    if (!slate) return;
    setProblem(null);
    const key = `${slate.eventId}:${productId}`;
    setGiven((previous) => ({ ...previous, [key]: action }));
    const result = await recordInteraction({
      input: { productId, action, eventId: slate.eventId },
    });
    const errors = result.data?.recordInteraction.userErrors ?? [];
    if (result.error || errors.length) {
      setGiven(({ [key]: _dropped, ...rest }) => rest);
      setProblem(result.error?.message ?? describeUserErrors(errors));
    }
  }

  return (
    <section
      className="panel recommendations"
      aria-labelledby="recommendations-title"
      data-testid="recommendations"
      data-event-id={slate?.eventId}
      data-source={refreshedLive ? "live" : "query"}
    >
      <header className="panel-header">
        <h2 id="recommendations-title">Recommended for you</h2>
        {refreshedLive && (
          <span className="badge live-badge" data-testid="refreshed">
            refreshed live
          </span>
        )}
        {slate && <small className="muted">model {slate.modelVersion}</small>}
      </header>
      {error && <p className="error">{error.message}</p>}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {!slate && fetching && <p className="muted">Loading…</p>}
      <ol className="grid">
        {slate?.items.map((item) => {
          const choice = given[`${slate.eventId}:${item.product.id}`];
          return (
            <li key={item.product.id} data-testid="recommendation" data-slot={item.slot}>
              <ProductCard product={item.product}>
                <button
                  type="button"
                  className={choice === "TICK" ? "chosen" : ""}
                  aria-pressed={choice === "TICK"}
                  aria-label={`More like ${item.product.name}`}
                  disabled={choice != null}
                  onClick={() => react(item.product.id, "TICK")}
                >
                  ✓ Tick
                </button>
                <button
                  type="button"
                  className={choice === "CROSS" ? "chosen" : ""}
                  aria-pressed={choice === "CROSS"}
                  aria-label={`Less like ${item.product.name}`}
                  disabled={choice != null}
                  onClick={() => react(item.product.id, "CROSS")}
                >
                  ✕ Cross
                </button>
              </ProductCard>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
