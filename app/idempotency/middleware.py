"""`Idempotency-Key` on POST: the first response is stored per client and key and replayed on retry.

A retry with the same key and the same request gets the stored response (with
`Idempotent-Replayed: true`); the same key with a different request is 422; a
retry while the first is still running is 409. Server errors (5xx) are not
stored, so the retry runs again. Responses that carry a secret (new API keys)
are never stored.

The response is stored in the request's own transaction and committed with its work, before it is
sent (see claim.py): a crash can lose both or neither, never the response alone.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import DondocError, IdempotencyInProgress, ValidationProblem
from app.idempotency import service
from app.idempotency.claim import Claim, current_claim
from app.problems import internal_problem, problem_response

HEADER = b"idempotency-key"
NEVER_STORED = ("/v1/api-keys",)
# Bulk uploads are streamed, never buffered here; POST /v1/imports honours Idempotency-Key itself.
NOT_BUFFERED = ("/v1/imports",)
MAX_KEY_LENGTH = 255

log = logging.getLogger("dondoc.idempotency")


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
        claim = Claim(service.client_hash(credential), key)
        print_ = service.fingerprint(scope["method"], scope["path"], scope.get("query_string", b"").decode(), body)
        stored = await service.claim(claim.client, claim.key, print_)
        if stored is not None:
            await _send_stored(send, stored)
            return
        held = _HeldResponse(claim, scope, send)
        token = current_claim.set(claim)
        try:
            await self.app(scope, replay_receive, held.send)
        except BaseException:
            if not held.sent:
                await service.release(claim)
            raise
        finally:
            current_claim.reset(token)


class _HeldResponse:
    """Holds the response back until it is complete, then stores it and commits the request's work
    with it (or releases the claim), and only then sends it on.

    This happens as the last body message is sent, not after the endpoint returns, because the
    app's background tasks run after that send and must find the work committed (a webhook test
    enqueues its delivery there).
    """

    def __init__(self, claim: Claim, scope: Scope, send: Send) -> None:
        self._claim = claim
        self._scope = scope
        self._send = send
        self._start: Message | None = None
        self._body = bytearray()
        self.sent = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self.sent:
            await self._send(message)
            return
        self._body += message.get("body", b"")
        if message.get("more_body", False):
            return
        assert self._start is not None
        self.sent = True
        await self._finish(self._start["status"])

    async def _finish(self, status: int) -> None:
        if status >= 500 or status == 401:  # not the request's answer: a retry must run it again
            await service.release(self._claim)
            await self._send_held()
            return
        stored = service.StoredResponse(status, self._replayed_headers(), bytes(self._body))
        try:
            finished = await service.finish(self._claim, stored)
        except Exception:
            log.exception("storing the response with the request's work failed; both were rolled back")
            await service.release(self._claim)
            await self._send_problem(internal_problem(self._scope.get("path")))
            return
        if not finished:
            retaken = IdempotencyInProgress(
                "A retry with this Idempotency-Key finished first; this attempt changed nothing. Retry to get its response."
            )
            await self._send_problem(retaken.problem(self._scope.get("path")))
            return
        await self._send_held()

    def _replayed_headers(self) -> dict[str, str]:
        assert self._start is not None
        headers: dict[str, str] = {}
        for name, value in self._start.get("headers", []):
            if name.decode("latin-1").lower() in service.REPLAYED_HEADERS:
                headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        return headers

    async def _send_held(self) -> None:
        assert self._start is not None
        await self._send(self._start)
        await self._send({"type": "http.response.body", "body": bytes(self._body), "more_body": False})

    async def _send_problem(self, problem: dict[str, Any]) -> None:
        await problem_response(problem)(self._scope, _nothing_to_receive, self._send)


async def _nothing_to_receive() -> Message:  # a response never reads the request
    return {"type": "http.disconnect"}


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
