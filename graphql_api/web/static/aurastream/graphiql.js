// AuraStream GraphiQL: renders the vendored GraphiQL (global `GraphiQL`, with `React` and
// `ReactDOM`) with the settings the page embeds as JSON. Everything it loads or calls is on
// the page's own origin.
(function () {
  "use strict";

  var settings = JSON.parse(document.getElementById("graphiql-settings").textContent);

  // Operations go to the URL this page was served from, without its query string.
  var endpoint = window.location.origin + window.location.pathname;
  var post = GraphiQL.createFetcher({ url: endpoint });

  // Headers whose value is left empty (such as the X-API-Key template) are not sent.
  function withoutEmptyHeaders(headers) {
    var kept = {};
    Object.keys(headers || {}).forEach(function (name) {
      var value = headers[name];
      if (value !== "" && value !== null && value !== undefined) {
        kept[name] = value;
      }
    });
    return kept;
  }

  function fetcher(params, options) {
    var given = options || {};
    return post(params, Object.assign({}, given, { headers: withoutEmptyHeaders(given.headers) }));
  }

  var props = {
    fetcher: fetcher,
    defaultQuery: settings.defaultQuery,
    defaultHeaders: settings.defaultHeaders,
    isHeadersEditorEnabled: true,
    // API keys stay out of the browser's storage unless a user opts in (GraphiQL settings).
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: "headers",
    inputValueDeprecation: true,
  };

  // GraphiQL restores the query and variables it saved in localStorage. On a first visit
  // (no saved tabs yet) the example is saved there as if typed, so that it survives a reload
  // like anything the user edits; without localStorage it is passed for this visit only.
  try {
    var storage = window.localStorage;
    if (storage.getItem("graphiql:tabState") === null) {
      storage.setItem("graphiql:query", settings.defaultQuery);
      storage.setItem("graphiql:variables", settings.defaultVariables);
    }
  } catch (error) {
    props.query = settings.defaultQuery;
    props.variables = settings.defaultVariables;
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, props),
  );
})();
