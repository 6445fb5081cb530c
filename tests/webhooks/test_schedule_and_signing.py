"""Pure rules: the retry schedule with jitter, Retry-After, the address guard, and Standard Webhooks signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.webhooks import signing
from app.webhooks.delivery import (
    MAX_ATTEMPTS,
    RETRY_SCHEDULE,
    AttemptResult,
    forbidden_address,
    jittered,
    next_delay,
    retry_after_seconds,
)

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def failure(code: int | None = 500, retry_after: float | None = None) -> AttemptResult:
    return AttemptResult(started_at=NOW, duration_ms=5, status_code=code, retry_after_s=retry_after)


def test_schedule_is_immediately_5s_5min_30min_2h_5h_10h_10h() -> None:
    assert RETRY_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 36000) and MAX_ATTEMPTS == 8


@pytest.mark.parametrize(("failed", "expected"), [(1, 5), (2, 300), (3, 1800), (4, 7200), (5, 18000), (6, 36000), (7, 36000)])
def test_next_attempt_follows_the_schedule(failed: int, expected: int) -> None:
    assert next_delay(failed, failure(), rng=lambda: 0.5) == pytest.approx(expected)


def test_no_attempt_after_the_eighth() -> None:
    assert next_delay(8, failure()) is None


def test_jitter_is_within_ten_percent() -> None:
    assert jittered(300, rng=lambda: 0.0) == pytest.approx(270) and jittered(300, rng=lambda: 1.0) == pytest.approx(330)


@pytest.mark.parametrize("code", [429, 503])
def test_retry_after_is_honoured_when_longer(code: int) -> None:
    assert next_delay(1, failure(code, retry_after=120), rng=lambda: 0.5) == 120


def test_retry_after_never_shortens_the_schedule() -> None:
    assert next_delay(3, failure(429, retry_after=1), rng=lambda: 0.5) == pytest.approx(1800)


def test_retry_after_is_ignored_on_other_statuses() -> None:
    assert next_delay(1, failure(500, retry_after=600), rng=lambda: 0.5) == pytest.approx(5)


def test_retry_after_is_capped_at_a_day() -> None:
    assert next_delay(1, failure(503, retry_after=10**9), rng=lambda: 0.5) == 86_400


def test_retry_after_reads_seconds_and_http_dates() -> None:
    later = (NOW + timedelta(minutes=10)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after_seconds("120", NOW) == 120
    assert retry_after_seconds(later, NOW) == pytest.approx(600)
    assert retry_after_seconds("Mon, 01 Jan 2001 00:00:00 GMT", NOW) == 0
    assert retry_after_seconds("soon", NOW) is None and retry_after_seconds(None, NOW) is None


def test_3xx_is_a_failure_and_410_is_gone() -> None:
    assert not failure(302).succeeded and failure(204).succeeded and failure(410).gone


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.0.1", "169.254.169.254", "::1", "fe80::1", "fc00::1",
                "224.0.0.251", "0.0.0.0", "240.0.0.1", "::ffff:10.0.0.1", "100.64.1.1"],
)
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:84e5", "14.225.0.1"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden_address(address)


def test_signature_verifies_with_the_standardwebhooks_library() -> None:
    secret = signing.new_secret()
    body = b'{"type":"assignment.created","timestamp":"2026-11-23T04:00:00Z","data":{"id":7}}'
    headers = signing.headers([secret], message_id="7", timestamp=int(datetime.now(UTC).timestamp()), body=body)
    assert Webhook(secret).verify(body, headers)["data"]["id"] == 7


def test_during_rotation_either_secret_verifies() -> None:
    new, old = signing.new_secret(), signing.new_secret()
    body = b'{"type":"webhook.ping","timestamp":"2026-11-23T04:00:00Z","data":{}}'
    headers = signing.headers([new, old], message_id="m1", timestamp=int(datetime.now(UTC).timestamp()), body=body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(body, headers)
    Webhook(old).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_tampered_body_fails_verification() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], message_id="9", timestamp=int(datetime.now(UTC).timestamp()), body=b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
