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
    }),
  );
})();
