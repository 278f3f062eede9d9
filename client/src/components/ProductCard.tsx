import { type ReactNode, useState } from "react";
import { useMutation } from "urql";

import { AddToCartMutation } from "../api/operations";
import { mediaUrl } from "../config";
import { describeUserErrors, formatMoney } from "../format";
import type { ProductFieldsFragment } from "../gql/graphql";

export function ProductCard({ product, children }: { product: ProductFieldsFragment; children?: ReactNode }) {
  return (
    <article className="card" data-testid="product" data-product-id={product.id}>
      <img src={mediaUrl(product.imageUrl)} alt="" width={160} height={160} loading="lazy" />
      <h3>{product.name}</h3>
      <p className="meta">
        {product.brand} · {product.category}
      </p>
      <p className="price">{formatMoney(product.price)}</p>
      <p className={product.inStock ? "stock" : "stock out"} data-testid="stock">
        {product.inStock ? `${product.inventory} in stock` : "Out of stock"}
      </p>
      <div className="actions">
        {children}
        <AddToCartButton product={product} />
      </div>
    </article>
  );
}

function AddToCartButton({ product }: { product: ProductFieldsFragment }) {
  const [state, addToCart] = useMutation(AddToCartMutation);
  const [problem, setProblem] = useState<string | null>(null);

  async function add() {
    setProblem(null);
    const result = await addToCart({ productId: product.id, quantity: 1 });
    const errors = result.data?.addToCart.userErrors ?? [];
    if (result.error) setProblem(result.error.message);
    else if (errors.length) setProblem(describeUserErrors(errors));
  }

  return (
    <>
      <button
        type="button"
        onClick={add}
        disabled={!product.inStock || state.fetching}
        aria-label={`Add ${product.name} to cart`}
      >
        Add to cart
      </button>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}
