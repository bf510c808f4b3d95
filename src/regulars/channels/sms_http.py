"""SMS through a provider's HTTP API: a JSON POST with the API key as a bearer token.

The body is ``{"to": "+351…", "text": "…", "reference": "<idempotency key>"}`` and the
``Idempotency-Key`` header carries the same key on every attempt, so a provider that
deduplicates (most do) never delivers one outbox row twice. Providers with another body
shape sit behind a small relay, or a subclass overriding ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from regulars.channels.base import ChannelName, Message, SendResult
from regulars.channels.http_common import HttpChannelBase, post
from regulars.domain.customers import normalise_phone

#: An SMS longer than this (ten concatenated parts) is refused rather than cut.
MAX_SMS_CHARS = 1530


@dataclass(frozen=True)
class SmsSettings:
    endpoint: str = "http://127.0.0.1:8025/sms"
    api_key: str | None = None
    timeout_s: float = 10.0


class SmsHttpChannel(HttpChannelBase):
    name: ChannelName = "sms"

    def __init__(self, settings: SmsSettings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.transport = transport
        self.timeout_s = settings.timeout_s

    def address_problem(self, address: str | None) -> str | None:
        if not address:
            return "the customer has no mobile number"
        try:
            normalise_phone(address)
        except ValueError:
            return f"{address!r} is not a phone number in international form (+351…)"
        return None

    def body(self, message: Message) -> dict[str, Any]:
        return {
            "to": normalise_phone(message.to),
            "text": message.text,
            "reference": message.idempotency_key,
        }

    def send(self, message: Message) -> SendResult:
        problem = self.address_problem(message.to)
        if problem is not None:
            return SendResult.permanent(problem)
        if len(message.text) > MAX_SMS_CHARS:
            return SendResult.permanent(
                f"the text is {len(message.text)} characters; "
                f"an SMS may have at most {MAX_SMS_CHARS}"
            )
        headers = {"Idempotency-Key": message.idempotency_key}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        return post(
            self._http(),
            self.settings.endpoint,
            "the SMS provider",
            json=self.body(message),
            headers=headers,
        )


__all__ = ["MAX_SMS_CHARS", "SmsHttpChannel", "SmsSettings"]
