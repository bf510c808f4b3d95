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

#: An SMS longer than ten concatenated parts is refused rather than cut: 10 × 153 septets
#: in the GSM alphabet, or 10 × 67 UTF-16 units once one character lies outside it ("ã").
MAX_SMS_CHARS = 1530
MAX_UNICODE_SMS_CHARS = 670

#: The GSM 03.38 alphabet: one septet each.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: Its extension table: an escape plus the character, two septets each.
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


def sms_length(text: str) -> tuple[int, int]:
    """(the text's length as the network counts it, the most ten parts can carry).

    One character outside the GSM alphabet turns the whole message into UCS-2, which fits
    67 characters a part instead of 153: counting Python characters would let a 1 500
    character Portuguese text through as 23 parts.
    """
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        return sum(2 if ch in GSM_EXTENDED else 1 for ch in text), MAX_SMS_CHARS
    return len(text.encode("utf-16-le")) // 2, MAX_UNICODE_SMS_CHARS


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
        length, limit = sms_length(message.text)
        if length > limit:
            alphabet = "GSM" if limit == MAX_SMS_CHARS else "Unicode (UCS-2)"
            return SendResult.permanent(
                f"the text is {length} characters in the {alphabet} alphabet; "
                f"an SMS may have at most {limit}"
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


__all__ = ["MAX_SMS_CHARS", "MAX_UNICODE_SMS_CHARS", "SmsHttpChannel", "SmsSettings", "sms_length"]
