"""Security headers on every answer: no framing, no sniffing, no leaking addresses or caches.

A console page framed by another site could be clicked through blind (a goodwill grant, a
call outcome); a JSON answer sniffed as HTML could run as script; the unsubscribe link's
token, sent on as a Referer, would tell a third party who the customer is; and a customer's
page kept in the counter computer's cache comes back with the Back button after sign-out.

The console's own pages load their script and stylesheet from ``/console/static`` only, so
the policy allows scripts from this site alone (inline ``style`` attributes are allowed;
they run no code). The API description at ``/docs`` loads Swagger UI from its CDN with an
inline starter, so it gets a policy of its own that still forbids framing.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_POLICY = "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


#: Served over TLS, browsers are told to come back over TLS only, for a year: a counter on
#: café Wi-Fi must never send the session cookie's first request in the clear.
HSTS = "max-age=31536000"


def headers_for(path: str, *, tls: bool = False) -> dict[str, str]:
    """The security headers an answer on ``path`` carries (``tls``: served over https)."""
    policy = DOCS_POLICY if path in DOCS_PATHS else CONSOLE_POLICY
    extra = {"Strict-Transport-Security": HSTS} if tls else {}
    return {**COMMON, "Content-Security-Policy": policy, **extra}


class SecurityHeaders:
    """ASGI middleware adding ``headers_for`` to every HTTP answer, errors included.

    An answer that says nothing about caching gets ``Cache-Control: no-store``: pages and
    API answers hold customers' data; the static files say they may be cached.
    """

    def __init__(self, app: ASGIApp, *, tls: bool = False) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), tls=self.tls)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, guarded)


__all__ = ["CONSOLE_POLICY", "DOCS_POLICY", "HSTS", "SecurityHeaders", "headers_for"]
