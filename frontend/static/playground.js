// The GraphQL playground (ADR 0024): GraphiQL from /static/vendor, against /graphql over HTTP and
// its subscriptions over WebSocket (graphql-transport-ws). Signed in, the session cookie is
// enough (with the page's CSRF token, as mutations need it); the Headers tab shows how an
// outside tool sends a personal token instead.
(function () {
  "use strict";
  var PLACEHOLDER = "<your token from /account>";
  var EXAMPLE = [
    "# oO's GraphQL API. Run with the play button (or Ctrl-Enter); Docs lists every field.",
    "# Signed in, your session is enough. From a script or another tool, send a personal",
    "# token (make one on /account) as in the Headers tab below.",
    "",
    "query MyTip {",
    "  me { name role }",
    "  tip {",
    "    id",
    "    content",
    "    kind",
    "    source",
    "    explanation { policyId score propensity explored }",
    "  }",
    "}",
    "",
    "# Live: the tip on screen now, then again whenever it changes (over WebSocket).",
    "subscription TipUpdates {",
    "  myTip { id content kind }",
    "}",
    "",
  ].join("\n");
  var HEADERS = JSON.stringify({ Authorization: "Bearer " + PLACEHOLDER }, null, 2);

  var root = document.getElementById("graphiql");
  if (!root || !window.GraphiQL || !window.React || !window.ReactDOM) { return; }
  var csrf = document.body.getAttribute("data-csrf") || "";
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";
  var wsScheme = window.location.protocol === "https:" ? "wss:" : "ws:";

  // The hint in the Headers tab is not a token: it is left out until someone pastes a real
  // one, so that the example runs with the session as it is.
  function realHeaders(headers) {
    var out = {};
    Object.keys(headers || {}).forEach(function (name) {
      var value = String(headers[name]);
      if (name.toLowerCase() === "authorization" && value.indexOf(PLACEHOLDER) !== -1) { return; }
      out[name] = value;
    });
    return out;
  }

  var base = window.GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: wsScheme + "//" + window.location.host + endpoint,
    headers: { "x-csrftoken": csrf },
  });
  function fetcher(params, options) {
    var opts = Object.assign({}, options || {});
    opts.headers = realHeaders(opts.headers);
    return base(params, opts);
  }

  root.textContent = "";
  window.ReactDOM.createRoot(root).render(window.React.createElement(window.GraphiQL, {
    fetcher: fetcher,
    defaultQuery: EXAMPLE,
    defaultHeaders: HEADERS,
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: false,
  }));
})();
