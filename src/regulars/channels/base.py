"""What every delivery channel looks like to the outbox worker.

A channel gets one fully rendered ``Message`` and answers with a ``SendResult``; it never
raises for a delivery problem. The answer says whether the failure is *permanent* (a bad
address, a 5xx refusal: retrying cannot help, the planner falls back to another touch) or
*transient* (a timeout, a 4xx, a connection refused: the worker retries with backoff).

Each message carries an ``idempotency_key`` derived from its outbox key. It is the same on
every attempt (until a person sends the message again, which starts a new series), so a
receiver that sees a message twice (after a worker crashed between "the server accepted"
and "we recorded it") can tell it is a repeat: it becomes the e-mail's ``Message-ID`` and
the ``Idempotency-Key`` header of SMS and webhook requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

ChannelName = Literal["email", "sms", "webhook"]
CHANNEL_NAMES: tuple[ChannelName, ...] = ("email", "sms", "webhook")

Outcome = Literal["sent", "transient", "permanent"]


def idempotency_key_for(outbox_key: str, series: int = 0) -> str:
    """A stable, opaque token for one outbox key (no customer ids leak into headers).

    ``series`` counts the times a person sent the message again: that is a new request (a
    corrected number, say), and a provider replaying its first answer to the old key would
    refuse it forever.
    """
    name = outbox_key if series == 0 else f"{outbox_key}#{series}"
    return hashlib.sha256(f"regulars-outbox:{name}".encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Message:
    """One rendered message for one recipient, ready to hand to a channel."""

    key: str
    channel: ChannelName
    to: str
    customer_id: int
    moment: str
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    series: int = 0

    @property
    def idempotency_key(self) -> str:
        return idempotency_key_for(self.key, self.series)


@dataclass(frozen=True)
class SendResult:
    """What a channel made of one message."""

    outcome: Outcome
    detail: str = ""
    provider_id: str = ""

    @classmethod
    def sent(cls, provider_id: str = "", detail: str = "") -> SendResult:
        return cls("sent", detail, provider_id)

    @classmethod
    def transient(cls, detail: str) -> SendResult:
        return cls("transient", detail[:1000])

    @classmethod
    def permanent(cls, detail: str) -> SendResult:
        return cls("permanent", detail[:1000])

    @property
    def ok(self) -> bool:
        return self.outcome == "sent"


class Channel(Protocol):
    """A way out: SMTP, an SMS provider, a webhook receiver, or the in-memory fake."""

    name: ChannelName

    def address_problem(self, address: str | None) -> str | None:
        """Why this address cannot be used on this channel, or None when it can."""
        ...

    def send(self, message: Message) -> SendResult:
        """Deliver one message; report failures in the result, never by raising."""
        ...

    def close(self) -> None:
        """Let go of any connection kept open between messages of one batch."""
        ...


__all__ = [
    "CHANNEL_NAMES",
    "Channel",
    "ChannelName",
    "Message",
    "Outcome",
    "SendResult",
    "idempotency_key_for",
]
