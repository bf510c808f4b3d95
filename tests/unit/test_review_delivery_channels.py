"""Channel limits the review found wrong: SMS length per alphabet, signatures, phone digits."""

from __future__ import annotations

import time

import pytest

from regulars.channels.base import Message
from regulars.channels.sms_http import SmsHttpChannel, SmsSettings
from regulars.channels.webhooks import sign, verify_signature
from regulars.domain.customers import normalise_phone
from tests.delivery_servers import http_server


def _sms(text: str, to: str = "+351912345678") -> Message:
    return Message(
        key="generic:7:news", channel="sms", to=to, customer_id=7, moment="generic", text=text
    )


def _send(message: Message) -> tuple[str, str, int]:
    with http_server() as (sink, url):
        channel = SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms"))
        result = channel.send(message)
        channel.close()
    return result.outcome, result.detail, len(sink.requests)


def test_a_long_portuguese_sms_is_refused_before_it_costs_fifteen_parts() -> None:
    # "ã" is outside the GSM alphabet: the whole SMS goes as UCS-2, 67 characters a part,
    # so 900 characters would be 14 parts, past the ten the limit is meant to allow.
    text = ("Olá Ana, a promoção de verão já começou. " * 22)[:900]
    outcome, detail, requests = _send(_sms(text))
    assert (outcome, requests) == ("permanent", 0)
    assert "670" in detail


def test_a_long_sms_in_the_gsm_alphabet_still_goes_up_to_ten_parts() -> None:
    text = ("Hello Ana, the summer offer has started. " * 40)[:1500]
    assert _send(_sms(text))[::2] == ("sent", 1)


def test_gsm_extension_characters_count_twice() -> None:
    text = "€" * 766  # 1 532 septets: each euro sign is an escape plus a character
    outcome, detail, requests = _send(_sms(text))
    assert (outcome, requests) == ("permanent", 0)
    assert "1530" in detail or "1 530" in detail


def test_a_signature_header_with_non_ascii_text_is_refused_not_a_crash() -> None:
    body = b'{"a":1}'
    now = time.time()
    good = sign("s3cret", int(now), body)
    assert verify_signature("s3cret", good, body, now=now)
    assert verify_signature("s3cret", f"t={int(now)},v1=é", body, now=now) is False


@pytest.mark.parametrize("typed", ["+351 ٩١٢ ٣٤٥ ٦٧٨", "+351 ９１２ ３４５ ６７８"])
def test_a_phone_number_with_non_latin_digits_is_not_accepted_as_e164(typed: str) -> None:
    with pytest.raises(ValueError, match="international form"):
        normalise_phone(typed)
    assert _send(_sms("Hi", to=typed))[::2] == ("permanent", 0)
