"""`Idempotency-Key` on POST: the first response is stored per client and key and replayed on retry.

A retry with the same key and the same request gets the stored response (with
`Idempotent-Replayed: true`); the same key with a different request is 422; a
retry while the first is still running is 409. Server errors (5xx) are not
stored, so the retry runs again. Responses that carry a secret (new API keys)
are never stored.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import DondocError, ValidationProblem
from app.idempotency import service
from app.problems import problem_response

HEADER = b"idempotency-key"
NEVER_STORED = ("/v1/api-keys",)
# Bulk uploads are streamed, never buffered here; POST /v1/imports honours Idempotency-Key itself.
NOT_BUFFERED = ("/v1/imports",)
MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(HEADER, b"").decode("latin-1").strip()
        credential = _credential(headers)
        if scope["type"] != "http" or scope["method"] != "POST" or not key or not credential or _exempt(scope):
            await self.app(scope, receive, send)
            return
        try:
            await self._handle(scope, receive, send, key, credential)
        except DondocError as exc:
            await problem_response(exc.problem(scope.get("path")))(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, key: str, credential: str) -> None:
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationProblem.for_field("Idempotency-Key", f"at most {MAX_KEY_LENGTH} characters", "too_long")
        body, replay_receive = await _read_body(receive)
        client = service.client_hash(credential)
        print_ = service.fingerprint(scope["method"], scope["path"], scope.get("query_string", b"").decode(), body)
        stored = await service.claim(client, key, print_)
        if stored is not None:
            await _send_stored(send, stored)
            return
        captured = _Capture(send)
        try:
            await self.app(scope, replay_receive, captured.send)
        except BaseException:
            await service.release(client, key)
            raise
        if captured.status >= 500 or captured.status in (401,):
            await service.release(client, key)
        else:
            await service.finish(client, key, captured.stored())


class _Capture:
    """Passes the response through while keeping a copy to store."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500
        self.headers: dict[str, str] = {}
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                if name.decode("latin-1").lower() in service.REPLAYED_HEADERS:
                    self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        await self._send(message)

    def stored(self) -> service.StoredResponse:
        return service.StoredResponse(self.status, self.headers, bytes(self.body))


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _send_stored(send: Send, stored: service.StoredResponse) -> None:
    headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
    headers += [(b"idempotent-replayed", b"true"), (b"content-length", str(len(stored.body)).encode())]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body})


def _credential(headers: dict[bytes, bytes]) -> str:
    api_key = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    if api_key:
        return api_key
    scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _exempt(scope: Scope) -> bool:
    return any(scope["path"].startswith(prefix) for prefix in (*NEVER_STORED, *NOT_BUFFERED))
