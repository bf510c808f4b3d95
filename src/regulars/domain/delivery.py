"""Delivery rules: how long to wait before retrying, and the signed unsubscribe token.

Pure functions: the worker passes the attempt number and the settings; nothing here reads a
clock or a secret from the environment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta

#: Channels a customer can unsubscribe from with a link (webhook: messages in their app).
UNSUBSCRIBABLE = frozenset({"email", "sms", "webhook"})


def retry_delay(key: str, attempt: int, *, base_s: float, cap_s: float) -> timedelta:
    """Exponential backoff with a cap and up to 25 % jitter.

    The jitter spreads retries so a recovering SMTP server is not hit by every message at
    once; it is derived from the key and attempt (not ``random``) so that a test, or a
    replay with ``--now``, sees the same schedule every time.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    raw = min(cap_s, base_s * (2 ** min(attempt - 1, 32)))
    digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    fraction = int.from_bytes(digest[:4], "big") / 2**32  # 0 ≤ fraction < 1
    return timedelta(seconds=min(cap_s, raw * (1 + 0.25 * fraction)))


def _signature(secret: str, customer_id: int, channel: str) -> str:
    mac = hmac.new(secret.encode(), f"unsubscribe:{customer_id}:{channel}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode().rstrip("=")


def make_unsubscribe_token(secret: str, customer_id: int, channel: str) -> str:
    """A link token naming the customer and channel, signed so nobody can forge another's."""
    if channel not in UNSUBSCRIBABLE:
        raise ValueError(f"cannot unsubscribe from {channel!r}")
    return f"{customer_id}.{channel}.{_signature(secret, customer_id, channel)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    """The (customer id, channel) a token stands for, or None when it is malformed or forged."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    raw_id, channel, signature = parts
    # ASCII digits only: str.isdigit() also takes "²" (which int() refuses: a 500 on a public
    # link) and "١" (which int() reads as 1, a second spelling of someone's link).
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return None
    if channel not in UNSUBSCRIBABLE:
        return None
    customer_id = int(raw_id)
    if not hmac.compare_digest(signature, _signature(secret, customer_id, channel)):
        return None
    return customer_id, channel


__all__ = [
    "UNSUBSCRIBABLE",
    "make_unsubscribe_token",
    "read_unsubscribe_token",
    "retry_delay",
]
