"""uvicorn's HTTP protocol with the API's error shape for requests it cannot even parse.

httptools refuses a request line or headers over its limits (a GET query string of ~64 KB
or more) before the app sees anything, and uvicorn answers those in plain text. This
answers them as every other refusal is answered: JSON with a stable code. Pass it to
`uvicorn.run(..., http=JsonErrorHttpProtocol)`.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

UNPARSABLE = json.dumps(
    {
        "errors": [
            {
                "message": "The HTTP request could not be parsed, or its request line or "
                "headers are too long: send large queries with POST.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
).encode()


class JsonErrorHttpProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(UNPARSABLE)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                UNPARSABLE,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
