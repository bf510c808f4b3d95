"""The SMTP channel against a real local SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import time

from regulars.channels.base import Message
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from tests.delivery_servers import SmtpSink, free_port, smtp_server


def _message(to: str = "ana@example.com", key: str = "birthday:1:2026-05-01") -> Message:
    return Message(
        key=key,
        channel="email",
        to=to,
        customer_id=1,
        moment="birthday",
        subject="Happy birthday, Ana!",
        text="Dear Ana,\n\nHappy birthday.\n",
        html="<p>Dear Ana,</p>",
        headers={
            "List-Unsubscribe": "<http://127.0.0.1:8000/u/1.email.sig>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _channel(port: int, timeout_s: float = 5.0) -> SmtpChannel:
    return SmtpChannel(SmtpSettings(port=port, timeout_s=timeout_s))


def test_an_email_arrives_with_one_click_unsubscribe_headers_and_a_stable_message_id() -> None:
    with smtp_server() as (sink, port):
        channel = _channel(port)
        result = channel.send(_message())
        channel.close()
    assert result.ok
    [got] = sink.received
    assert got.rcpt_tos == ["ana@example.com"]
    assert got.message["Subject"] == "Happy birthday, Ana!"
    assert got.message["List-Unsubscribe"] == "<http://127.0.0.1:8000/u/1.email.sig>"
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got.message["Message-ID"] == result.provider_id
    assert got.message.is_multipart()  # plain text with an HTML alternative
    again = _channel(port).message_id(_message())
    assert again == got.message["Message-ID"], "every attempt of one key has the same Message-ID"


def test_several_messages_share_one_connection_within_a_batch() -> None:
    with smtp_server() as (sink, port):
        channel = _channel(port)
        for n in range(3):
            assert channel.send(_message(key=f"k{n}")).ok
        channel.close()
    assert sorted(sink.keys()) == sorted(_message(key=f"k{n}").idempotency_key for n in range(3))


def test_a_malformed_address_fails_for_good_without_touching_the_server() -> None:
    with smtp_server() as (sink, port):
        result = _channel(port).send(_message(to="ana-at-example"))
    assert result.outcome == "permanent"
    assert "not a valid e-mail address" in result.detail
    assert sink.received == []


def test_a_mailbox_the_server_refuses_with_5xx_is_a_permanent_failure() -> None:
    sink = SmtpSink()
    sink.scripts["gone@example.com"] = ["550"]
    with smtp_server(sink) as (_, port):
        channel = _channel(port)
        result = channel.send(_message(to="gone@example.com"))
        follow_up = channel.send(_message(to="ana@example.com", key="next"))
        channel.close()
    assert result.outcome == "permanent"
    assert "550" in result.detail
    assert follow_up.ok, "the connection stays usable after a refused recipient"


def test_a_4xx_refusal_is_transient_and_a_retry_gets_through() -> None:
    sink = SmtpSink()
    sink.scripts["busy@example.com"] = ["451"]
    with smtp_server(sink) as (_, port):
        channel = _channel(port)
        first = channel.send(_message(to="busy@example.com"))
        second = channel.send(_message(to="busy@example.com"))
        channel.close()
    assert first.outcome == "transient"
    assert "451" in first.detail
    assert second.ok
    assert len(sink.received) == 1


def test_a_server_that_hangs_times_out_as_a_transient_failure() -> None:
    sink = SmtpSink()
    sink.scripts["slow@example.com"] = ["hang:3"]
    with smtp_server(sink) as (_, port):
        channel = _channel(port, timeout_s=0.5)
        started = time.monotonic()
        result = channel.send(_message(to="slow@example.com"))
        elapsed = time.monotonic() - started
        channel.close()
    assert result.outcome == "transient"
    assert "did not answer" in result.detail
    assert elapsed < 2.5
    assert sink.received == []


def test_no_server_listening_is_a_transient_failure() -> None:
    result = _channel(free_port(), timeout_s=1).send(_message())
    assert result.outcome == "transient"
    assert "connection" in result.detail.lower()
