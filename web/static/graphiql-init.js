// Starts GraphiQL on the page web/graphiql.py renders. Its settings come from the JSON in
// <script id="graphiql-config">, so this file stays static (and cacheable forever under its
// content-hashed URL) and the page needs no inline script.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);

  // Queries and mutations go to this very URL; subscriptions use graphql-transport-ws on the
  // same path. GraphiQL passes the Headers tab to the websocket's connection_init payload,
  // so {"Authorization": "Bearer ..."} authenticates subscriptions too.
  var url = window.location.origin + window.location.pathname;
  var subscriptionUrl = url.replace(/^http/, "ws");

  var fetcher = GraphiQL.createFetcher({ url: url, subscriptionUrl: subscriptionUrl });

  // GraphiQL 4 shows `defaultTabs` variables in the tab but not in the Variables editor, so
  // pass them as `variables` too, on the first visit only: later visits keep the user's own.
  var firstVisit = true;
  try {
    firstVisit = window.localStorage.getItem("graphiql:tabState") === null;
  } catch (e) {
    // Storage disabled: GraphiQL then starts afresh every time anyway.
  }

  // A sidebar plugin listing the persisted (trusted) documents this server knows: the
  // reference client's manifest and those added with `shop documents add`. Clients send
  // these by id (`documentId`); in OPERATIONS=trusted (the prod default) nothing else runs.
  var h = React.createElement;
  var persisted = config.persistedDocuments || [];

  function pretty(text) {
    try {
      return GraphiQL.GraphQL.print(GraphiQL.GraphQL.parse(text));
    } catch (e) {
      return text;
    }
  }

  function PersistedIcon() {
    return h(
      "svg",
      { viewBox: "0 0 24 24", fill: "none", stroke: "currentColor", strokeWidth: 1.5, "aria-hidden": true },
      h("path", { d: "M7 3h7l5 5v13H7z M14 3v5h5 M10 13h6 M10 17h6" }),
    );
  }

  function PersistedList() {
    var editor = GraphiQL.React.useEditorContext();
    if (persisted.length === 0) {
      return h("p", null, "No persisted documents: this server trusts none yet.");
    }
    return h(
      "div",
      { className: "shopgraph-persisted" },
      h("div", { className: "graphiql-doc-explorer-title" }, "Persisted documents"),
      h(
        "p",
        null,
        persisted.length +
          " documents this server runs by id (documentId); with OPERATIONS=trusted they are the only ones.",
      ),
      h(
        "ul",
        { style: { listStyle: "none", padding: 0 } },
        persisted.map(function (entry) {
          return h(
            "li",
            { key: entry.id, "data-document-id": entry.id, style: { marginBottom: "0.75em" } },
            h(
              "div",
              null,
              entry.operations
                .map(function (op) {
                  return op.type + " " + (op.name || "(anonymous)");
                })
                .join(", "),
            ),
            h(
              "div",
              { style: { fontSize: "0.8em", opacity: 0.7, wordBreak: "break-all" } },
              entry.source + " · " + entry.id.slice(0, 19) + "…",
            ),
            h(
              "button",
              {
                type: "button",
                className: "graphiql-button",
                onClick: function () {
                  if (editor.queryEditor) editor.queryEditor.setValue(pretty(entry.document));
                },
              },
              "Open in the editor",
            ),
          );
        }),
      ),
    );
  }

  var persistedPlugin = { title: "Persisted documents", icon: PersistedIcon, content: PersistedList };

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      // Used until the browser has its own tabs stored (then GraphiQL keeps those).
      defaultTabs: [{ query: config.defaultQuery, variables: config.defaultVariables }],
      variables: firstVisit ? config.defaultVariables : undefined,
      // Every tab without headers of its own starts with these: in ENV=dev a fresh demo
      // shopper token. Headers are never written to localStorage (tokens would outlive
      // their session there).
      defaultHeaders: config.defaultHeaders,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      inputValueDeprecation: true,
      plugins: [persistedPlugin],
    }),
  );
})();
