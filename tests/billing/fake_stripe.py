"""Stripe's servers, faked at the stripe library's HTTP client: recorded JSON answers per (method, path).
Everything else (the library's request building and parsing, our code, the database) runs for real."""

import json
from urllib.parse import parse_qs, urlsplit

from stripe import HTTPClient


class FakeStripe(HTTPClient):
    name = "fake-stripe"

    def __init__(self):
        super().__init__()
        self.routes: dict[tuple[str, str], list[dict]] = {}
        self.requests: list[dict] = []

    def answer(self, method: str, path: str, *bodies: dict) -> None:
        """Answer `method path` with these bodies in turn (the last one repeats)."""
        self.routes[(method.upper(), path)] = list(bodies)

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.requests.append(
            {
                "method": method.upper(),
                "path": parts.path,
                "query": parse_qs(parts.query),
                "form": form,
                "headers": headers,
            }
        )
        bodies = self.routes.get((method.upper(), parts.path))
        if not bodies:
            body = {
                "error": {
                    "type": "invalid_request_error",
                    "message": f"no recorded answer for {method} {parts.path}",
                }
            }
            return json.dumps(body), 404, {}
        body = bodies.pop(0) if len(bodies) > 1 else bodies[0]
        return json.dumps(body), 200, {"request-id": "req_fake"}

    def request_stream(self, *args, **kwargs):
        raise AssertionError("the hub does not stream from Stripe")

    def close(self):
        pass
