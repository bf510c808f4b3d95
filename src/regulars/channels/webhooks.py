"""Outbound webhooks: a JSON POST signed with HMAC-SHA256, for apps and integrations.

The signature header is ``X-Regulars-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 over ``"<t>." + body`` with the shared secret. Signing the timestamp with the body
lets a receiver refuse replays older than a few minutes; ``verify_signature`` is what a
receiver (and our tests) runs. ``Idempotency-Key`` is the same on every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import httpx

from regulars.channels.base import ChannelName, Message, SendResult
from regulars.channels.http_common import HttpChannelBase, post

SIGNATURE_HEADER = "X-Regulars-Signature"


@dataclass(frozen=True)
class WebhookSettings:
    url: str | None = None
    secret: str = "change-me-webhook-secret"  # noqa: S105 - Settings' documented demo default
    timeout_s: float = 10.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float, tolerance_s: float = 300
) -> bool:
    """True when the header signs this body with this secret, and is not older than allowed."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    # Bytes, not str: compare_digest raises on non-ASCII text, and a receiver must answer
    # a garbled header with "no", not with a 500.
    given = parts.get("v1", "").encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), given)


class WebhookChannel(HttpChannelBase):
    name: ChannelName = "webhook"

    def __init__(
        self, settings: WebhookSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.timeout_s = settings.timeout_s

    def address_problem(self, address: str | None) -> str | None:
        """A webhook goes to the configured URL, whatever the customer's details."""
        if not self.settings.url:
            return "no webhook URL is configured (REGULARS_WEBHOOK_URL)"
        return None

    def send(self, message: Message) -> SendResult:
        problem = self.address_problem(None)
        if problem is not None or self.settings.url is None:
            return SendResult.permanent(problem or "no webhook URL")
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            SIGNATURE_HEADER: sign(self.settings.secret, int(time.time()), body),
            "X-Regulars-Event": "message",
        }
        return post(
            self._http(), self.settings.url, "the webhook receiver", content=body, headers=headers
        )


__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "WebhookSettings", "sign", "verify_signature"]
