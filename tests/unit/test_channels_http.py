"""SMS over HTTP and signed webhooks, against a real local HTTP server."""

from __future__ import annotations

import json
import time

from regulars.channels.base import Message
from regulars.channels.sms_http import SmsHttpChannel, SmsSettings
from regulars.channels.webhooks import (
    SIGNATURE_HEADER,
    WebhookChannel,
    WebhookSettings,
    sign,
    verify_signature,
)
from tests.delivery_servers import HttpSink, free_port, http_server


def _sms(to: str = "+351 912 345 678", key: str = "points:7:2026-05") -> Message:
    return Message(
        key=key,
        channel="sms",
        to=to,
        customer_id=7,
        moment="points_expiring",
        text="Ana, your 120 points expire on 1 June.",
    )


def _hook(key: str = "tier:7:gold") -> Message:
    return Message(
        key=key,
        channel="webhook",
        to="",
        customer_id=7,
        moment="tier_up",
        payload={"type": "message", "key": key, "customer": {"id": 7}},
    )


def test_an_sms_reaches_the_provider_with_the_api_key_and_an_idempotency_key() -> None:
    with http_server() as (sink, url):
        channel = SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms", api_key="sk-test"))
        result = channel.send(_sms())
        channel.close()
    assert result.ok
    assert result.provider_id == "prov-1"
    [request] = sink.requests
    assert request.path == "/sms"
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.headers["Idempotency-Key"] == _sms().idempotency_key
    assert request.json() == {
        "to": "+351912345678",
        "text": "Ana, your 120 points expire on 1 June.",
        "reference": _sms().idempotency_key,
    }


def test_a_phone_number_without_country_code_fails_for_good_and_is_not_sent() -> None:
    with http_server() as (sink, url):
        result = SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms")).send(_sms(to="912345"))
    assert result.outcome == "permanent"
    assert "international form" in result.detail
    assert sink.requests == []


def test_the_provider_refusing_the_number_is_permanent_but_its_outage_is_transient() -> None:
    with http_server(HttpSink(answers=[400, 503, 429])) as (_, url):
        channel = SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms"))
        outcomes = [channel.send(_sms()).outcome for _ in range(3)]
        channel.close()
    assert outcomes == ["permanent", "transient", "transient"]


def test_a_provider_that_hangs_times_out_as_a_transient_failure() -> None:
    with http_server(HttpSink(answers=["hang"], hang_s=2)) as (_, url):
        channel = SmsHttpChannel(SmsSettings(endpoint=f"{url}/sms", timeout_s=0.3))
        result = channel.send(_sms())
        channel.close()
    assert result.outcome == "transient"
    assert "in time" in result.detail


def test_an_unreachable_provider_is_transient() -> None:
    channel = SmsHttpChannel(SmsSettings(endpoint=f"http://127.0.0.1:{free_port()}/sms"))
    assert channel.send(_sms()).outcome == "transient"


def test_a_webhook_is_signed_so_the_receiver_can_verify_body_and_time() -> None:
    with http_server() as (sink, url):
        channel = WebhookChannel(WebhookSettings(url=f"{url}/hook", secret="s3cret"))
        result = channel.send(_hook())
        channel.close()
    assert result.ok
    [request] = sink.requests
    assert request.headers["Idempotency-Key"] == _hook().idempotency_key
    assert json.loads(request.body)["key"] == "tier:7:gold"
    header = request.headers[SIGNATURE_HEADER]
    assert header.startswith("t=") and ",v1=" in header
    assert verify_signature("s3cret", header, request.body, now=time.time())
    assert not verify_signature("wrong", header, request.body, now=time.time())
    assert not verify_signature("s3cret", header, request.body + b" ", now=time.time())
    assert not verify_signature("s3cret", header, request.body, now=time.time() + 3600)


def test_a_signature_covers_the_timestamp_so_it_cannot_be_replayed_later() -> None:
    body = b'{"a":1}'
    old = sign("s3cret", 1_000, body)
    forged = old.replace("t=1000", "t=2000")
    assert verify_signature("s3cret", old, body, now=1_100)
    assert not verify_signature("s3cret", forged, body, now=2_000)
    assert not verify_signature("s3cret", "garbage", body, now=1_000)


def test_without_a_configured_url_a_webhook_fails_for_good() -> None:
    result = WebhookChannel(WebhookSettings(url=None)).send(_hook())
    assert result.outcome == "permanent"
    assert "REGULARS_WEBHOOK_URL" in result.detail


def test_a_webhook_receiver_error_is_transient_and_a_4xx_permanent() -> None:
    with http_server(HttpSink(answers=[500, 410])) as (_, url):
        channel = WebhookChannel(WebhookSettings(url=f"{url}/hook"))
        outcomes = [channel.send(_hook()).outcome for _ in range(2)]
        channel.close()
    assert outcomes == ["transient", "permanent"]
