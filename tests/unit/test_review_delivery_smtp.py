"""International addresses against a real SMTP server that does not speak SMTPUTF8."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from regulars.channels.base import Message
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from tests.delivery_servers import SmtpSink, free_port


@pytest.fixture
def plain_ascii_server() -> Iterator[tuple[SmtpSink, int]]:
    """Like most relays: no SMTPUTF8, so a non-ASCII address can never pass through it."""
    sink, port = SmtpSink(), free_port()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, ready_timeout=10, enable_SMTPUTF8=False
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _mail(to: str) -> Message:
    return Message(
        key=f"birthday:{to}",
        channel="email",
        to=to,
        customer_id=7,
        moment="birthday",
        subject="Feliz aniversário",
        text="Olá Ana",
    )


def test_an_address_at_an_international_domain_is_delivered_in_its_ascii_form(
    plain_ascii_server: tuple[SmtpSink, int],
) -> None:
    sink, port = plain_ascii_server
    channel = SmtpChannel(SmtpSettings(port=port, timeout_s=3))
    result = channel.send(_mail("ana@café.pt"))
    channel.close()
    assert result.ok, result.detail
    [mail] = sink.received
    assert mail.rcpt_tos == ["ana@xn--caf-dma.pt"]
    assert mail.message["To"] == "ana@xn--caf-dma.pt"


def test_a_mailbox_name_the_server_cannot_carry_fails_for_good_instead_of_retrying(
    plain_ascii_server: tuple[SmtpSink, int],
) -> None:
    sink, port = plain_ascii_server
    channel = SmtpChannel(SmtpSettings(port=port, timeout_s=3))
    result = channel.send(_mail("joão@example.com"))
    after = channel.send(_mail("ana@example.com"))
    channel.close()
    assert result.outcome == "permanent"
    assert "SMTPUTF8" in result.detail
    assert after.ok and [m.rcpt_tos for m in sink.received] == [["ana@example.com"]]
