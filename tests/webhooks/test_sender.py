"""The sender dials the address the SSRF guard checked, while the request and TLS keep the URL's name."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from app.settings import get_settings
from app.webhooks import sender as sender_module
from app.webhooks.sender import Sender
from tests.webhooks.receiver import Receiver

NAME = "hooks.dondoc.test"


@pytest.fixture
def checked_as_loopback(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`NAME` resolves (and passes the guard) as 127.0.0.1; the names asked for are recorded."""
    asked: list[str] = []

    async def resolve(host: str, port: int, *, allow_private: bool) -> str:
        asked.append(host)
        return "127.0.0.1"

    monkeypatch.setattr(sender_module, "resolve_checked", resolve)
    return asked


async def post_once(url: str) -> sender_module.AttemptResult | None:
    sender = Sender(get_settings(), lanes=1)
    try:
        route = await sender.route(url)
        return await sender.post(route, headers={"webhook-id": "m1"}, body=b"{}")
    finally:
        sender.close()


async def test_the_checked_address_is_dialled_and_the_host_header_keeps_the_name(
    receiver: Receiver, checked_as_loopback: list[str]
) -> None:
    port = (await receiver.start()).split(":")[2].split("/")[0]
    result = await post_once(f"http://{NAME}:{port}/hooks/dondoc?x=1")
    assert result is not None and result.status_code == 200
    assert checked_as_loopback == [NAME]
    assert receiver.requests[0].headers["host"] == f"{NAME}:{port}" and receiver.requests[0].path == "/hooks/dondoc?x=1"


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return key, cert


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for `NAME`, and the sender trusting that certificate only."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    key, cert = _certificate(tmp_path, NAME)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(sender_module, "_ssl_context", lambda: client)
    return server, client


async def test_tls_sends_the_name_and_verifies_the_certificate_against_it(
    receiver: Receiver, checked_as_loopback: list[str], tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    port = (await receiver.start(ssl=tls[0])).split(":")[2].split("/")[0]
    result = await post_once(f"https://{NAME}:{port}/hooks/dondoc")
    assert result is not None and result.status_code == 200 and receiver.requests[0].headers["host"] == f"{NAME}:{port}"


async def test_a_certificate_for_another_name_is_a_connect_error(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def resolve(host: str, port: int, *, allow_private: bool) -> str:
        return "127.0.0.1"

    monkeypatch.setattr(sender_module, "resolve_checked", resolve)
    port = (await receiver.start(ssl=tls[0])).split(":")[2].split("/")[0]
    result = await post_once(f"https://other.dondoc.test:{port}/hooks/dondoc")
    assert result is not None and result.error == "connect_error" and receiver.requests == []
