import { useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";

import { CatalogQuery } from "../api/operations";
import { ProductCard } from "./ProductCard";

const PAGE_SIZE = 12;

function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** Search and browse the catalog: text search, category facets with counts, pages. */
export function Catalog() {
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState<string | null>(null);
  const term = useDebounced(search.trim(), 250);
  const filter = useMemo(
    () => ({ search: term || null, category: category ? [category] : null }),
    [term, category],
  );
  // Keyset pagination: the cursor each visited page started after. A new filter starts over.
  const filterKey = JSON.stringify(filter);
  const [paging, setPaging] = useState<{ key: string; cursors: (string | null)[] }>({
    key: filterKey,
    cursors: [null],
  });
  const cursors = paging.key === filterKey ? paging.cursors : [null];
  const after = cursors[cursors.length - 1] ?? null;

  const [{ data, error, fetching }] = useQuery({
    query: CatalogQuery,
    variables: { first: PAGE_SIZE, after, filter },
  });
  const products = data?.products;

  return (
    <section className="panel catalog" aria-labelledby="catalog-title">
      <header className="panel-header">
        <h2 id="catalog-title">Catalog</h2>
        <input
          type="search"
          placeholder="Search products"
          aria-label="Search products"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </header>
      <nav className="facets" aria-label="Categories">
        <button type="button" aria-pressed={category === null} onClick={() => setCategory(null)}>
          All
        </button>
        {data?.facets.categories.map((facet) => (
          <button
            type="button"
            key={facet.value}
            aria-pressed={category === facet.value}
            onClick={() => setCategory(category === facet.value ? null : facet.value)}
          >
            {facet.value} <span className="count">{facet.count}</span>
          </button>
        ))}
      </nav>
      {error && <p className="error">{error.message}</p>}
      {products && (
        <p className="muted" data-testid="result-count">
          {products.totalCount} products{fetching ? " · updating…" : ""}
        </p>
      )}
      <ul className="grid">
        {products?.edges.map(({ node }) => (
          <li key={node.id}>
            <ProductCard product={node} />
          </li>
        ))}
      </ul>
      <div className="pager">
        <button
          type="button"
          disabled={cursors.length === 1}
          onClick={() => setPaging({ key: filterKey, cursors: cursors.slice(0, -1) })}
        >
          ← Previous
        </button>
        <span className="muted">Page {cursors.length}</span>
        <button
          type="button"
          disabled={!products?.pageInfo.hasNextPage}
          onClick={() =>
            setPaging({ key: filterKey, cursors: [...cursors, products?.pageInfo.endCursor ?? null] })
          }
        >
          Next →
        </button>
      </div>
    </section>
  );
}
