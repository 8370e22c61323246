"""Security headers on every response, and the scheme a 401 asks for (pure ASGI: no per-request task
or streaming wrapper, as Starlette's BaseHTTPMiddleware costs)."""

from __future__ import annotations

from amparo.api.middleware_body import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
AUTH_CHALLENGE = 'Bearer realm="amparo"'
_ENCODED = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
_CHALLENGE = (b"www-authenticate", AUTH_CHALLENGE.encode("latin-1"))


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _ENCODED if k not in present]
                if message["status"] == 401 and b"www-authenticate" not in present:
                    headers.append(_CHALLENGE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
