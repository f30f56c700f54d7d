"""The AuraStream GraphiQL page: GraphiQL and React served by the API itself, nothing from a CDN.

The page is plain HTML referencing files under `/static` (vendored by
`scripts/vendor_graphiql.py`, pinned in `static/graphiql/VERSIONS.json`); its settings travel
as a JSON block that `static/aurastream/graphiql.js` reads. The Content-Security-Policy lets it
load and connect to its own origin only.
"""

from __future__ import annotations

import json
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from graphql_api.web.assets import PAGE_HEAD, asset_url

TITLE = "AuraStream GraphiQL"

STYLESHEETS = ("graphiql/graphiql.min.css",)
#: In load order: GraphiQL's UMD build expects the `React` and `ReactDOM` globals.
SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "aurastream/graphiql.js",
)

DEFAULT_QUERY = """\
# AuraStream GraphiQL
#
# Run the example with the play button (Ctrl-Enter).
# Its documents are in the Variables tab below.
#
# API key: if this deployment requires one, paste it
# as the X-API-Key value in the Headers tab. Header
# values left empty are not sent.
#
# Health: { health { status components { name status } } }

mutation Analyze($input: AnalyzeInput!) {
  analyze(input: $input) {
    results {
      id
      sentiment
      scores { positive negative neutral mixed }
      languageCode
      cached
      error { code message }
    }
  }
}
"""

DEFAULT_VARIABLES = {
    "input": {
        "documents": [
            {"id": "1", "text": "The new release is fast and a joy to use."},
            {"id": "2", "text": "I am disappointed: the export keeps failing."},
        ]
    }
}

DEFAULT_HEADERS = {"X-API-Key": ""}

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL's editors and popovers set inline styles.
        "style-src 'self' 'unsafe-inline'",
        # GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

_PAGE = (
    PAGE_HEAD
    + """\
{stylesheets}
    <style>
      html, body {{ height: 100%; margin: 0; overflow: hidden; }}
      #graphiql {{ height: 100vh; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading {title}…</div>
    <script type="application/json" id="graphiql-settings">{settings}</script>
{scripts}
  </body>
</html>
"""
)


def page_settings() -> dict[str, object]:
    """What `static/aurastream/graphiql.js` passes to GraphiQL."""
    return {
        "defaultQuery": DEFAULT_QUERY,
        "defaultVariables": json.dumps(DEFAULT_VARIABLES, indent=2),
        "defaultHeaders": json.dumps(DEFAULT_HEADERS, indent=2),
    }


def _json_for_script(value: object) -> str:
    # Inside <script>, "</" would end the element and "<!--" would open a comment.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e")


def render_page(request: Request) -> str:
    stylesheets = "\n".join(
        f'    <link rel="stylesheet" href="{escape(asset_url(request, path))}">'
        for path in STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{escape(asset_url(request, path))}"></script>' for path in SCRIPTS
    )
    return _PAGE.format(
        title=escape(TITLE),
        stylesheets=stylesheets,
        scripts=scripts,
        settings=_json_for_script(page_settings()),
    )


def graphiql_response(request: Request) -> HTMLResponse:
    """The page for `GraphQLApp.render_graphql_ide`: never cached, own origin only."""
    return HTMLResponse(
        render_page(request),
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
