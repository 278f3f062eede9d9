// A stock Apollo Client 4 with its persisted-query link (`@apollo/client/link/persisted-
// queries`, unmodified) against the live servers, in Node: automatic persisted queries on the
// dev server (OPERATIONS=any), registered documents only on the production-mode API.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";

import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

import { READY, documentId } from "./operations.mjs";
import { API_URL, DEV_URL } from "./support.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** An Apollo Client for `url` whose requests (method, query string, body) are recorded. */
function apollo(url, linkOptions) {
  const requests = [];
  const recordingFetch = (input, init = {}) => {
    const target = new URL(String(input));
    requests.push({
      method: init.method ?? "GET",
      params: Object.fromEntries(target.searchParams),
      body: init.body ? JSON.parse(init.body) : null,
    });
    return fetch(input, init);
  };
  const persisted = new PersistedQueryLink({ useGETForHashedQueries: true, ...linkOptions });
  const client = new ApolloClient({
    link: persisted.concat(new HttpLink({ uri: `${url}/graphql`, fetch: recordingFetch })),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "no-cache" } },
  });
  return { client, requests };
}

describe("Apollo Client's persisted-query link", () => {
  test("round-trips automatic persisted queries (hash, miss, hash + query, then hash only)", async () => {
    const query = gql`
      query ApqCatalog {
        products(first: 2) {
          totalCount
        }
      }
    `;
    const first = apollo(DEV_URL, { sha256 });
    const result = await first.client.query({ query });
    assert.ok(result.data.products.totalCount > 0);
    // A GET with the hash only (not found yet), then a POST with hash and query.
    assert.deepEqual(
      first.requests.map((r) => [r.method, "query" in r.params || Boolean(r.body?.query)]),
      [
        ["GET", false],
        ["POST", true],
      ],
    );
    const hash = JSON.parse(first.requests[0].params.extensions).persistedQuery.sha256Hash;
    assert.equal(hash, sha256(first.requests[1].body.query));

    // Another client (a new page load): the server knows the hash now; no document is sent.
    const second = apollo(DEV_URL, { sha256 });
    const again = await second.client.query({ query });
    assert.deepEqual(again.data, result.data);
    assert.equal(second.requests.length, 1);
    assert.equal(second.requests[0].method, "GET");
    assert.ok(!("query" in second.requests[0].params));
  });

  test("runs a registered document on the production-mode API by its manifest id", async () => {
    // Apollo's way to trusted documents: `generateHash` answers the manifest's id.
    const ids = { E2EReady: documentId(READY).replace("sha256:", "") };
    const { client, requests } = apollo(API_URL, {
      generateHash: (document) => ids[document.definitions[0].name.value],
    });
    const result = await client.query({ query: gql(READY) });
    assert.deepEqual(result.data, { __typename: "Query" });
    assert.equal(requests.length, 1);
  });

  test("cannot register a document on the production-mode API", async () => {
    const { client, requests } = apollo(API_URL, { sha256 });
    const query = gql`
      query NotRegistered {
        facets {
          categories {
            value
          }
        }
      }
    `;
    await assert.rejects(client.query({ query }), (error) => {
      assert.deepEqual(
        error.errors.map((e) => e.extensions.code),
        ["TRUSTED_DOCUMENT_REQUIRED"],
      );
      return true;
    });
    // It asked by hash, was told NOT_FOUND, sent the document: refused, and nothing ran.
    assert.deepEqual(
      requests.map((r) => r.method),
      ["GET", "POST"],
    );
  });
});
