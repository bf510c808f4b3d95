"""The SMTP channel over TLS with a login: STARTTLS and implicit TLS against a real server.

A throwaway certificate for 127.0.0.1 is made with the ``openssl`` command; the channel trusts
it through its ``tls_context``, exactly as a deployment would trust a private CA.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from regulars.channels.base import Message
from regulars.channels.smtp import SmtpChannel, SmtpSettings
from tests.delivery_servers import SmtpSink, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"shop",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture(params=["starttls", "implicit"])
def tls_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[SmtpSink, int, str]]:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    sink, port = SmtpSink(), free_port()
    common: dict[str, Any] = {
        "hostname": "127.0.0.1",
        "port": port,
        "authenticator": _authenticate,
        # aiosmtpd only counts STARTTLS as TLS; on an implicit-TLS port every byte is TLS anyway
        "auth_require_tls": request.param == "starttls",
        "ready_timeout": 10,
    }
    if request.param == "starttls":
        controller = Controller(sink, tls_context=server_context, require_starttls=True, **common)
    else:
        controller = Controller(sink, ssl_context=server_context, **common)
    controller.start()
    try:
        yield sink, port, request.param
    finally:
        controller.stop()


def _channel(
    port: int, mode: str, cert: Path, password: str | None = None, timeout_s: float = 5
) -> SmtpChannel:
    settings = SmtpSettings(
        port=port,
        starttls=mode == "starttls",
        ssl=mode == "implicit",
        username="shop",
        password=password or "s3cret",
        timeout_s=timeout_s,
    )
    return SmtpChannel(settings, tls_context=ssl.create_default_context(cafile=str(cert)))


MESSAGE = Message(
    key="k1",
    channel="email",
    to="ana@example.com",
    customer_id=1,
    moment="birthday",
    subject="Hello",
    text="Hi Ana",
)


def test_mail_goes_over_tls_after_logging_in(
    tls_server: tuple[SmtpSink, int, str], certificate: tuple[Path, Path]
) -> None:
    sink, port, mode = tls_server
    channel = _channel(port, mode, certificate[0])
    result = channel.send(MESSAGE)
    channel.close()
    assert result.ok, result.detail
    assert [r.rcpt_tos for r in sink.received] == [["ana@example.com"]]


def test_a_refused_login_is_transient_so_fixing_the_password_loses_nothing(
    tls_server: tuple[SmtpSink, int, str], certificate: tuple[Path, Path]
) -> None:
    sink, port, mode = tls_server
    # aiosmtpd answers a wrong password with silence rather than 535; either way it is a
    # problem with our configuration, not with the message, so the message waits for a retry.
    result = _channel(port, mode, certificate[0], password="wrong", timeout_s=1).send(MESSAGE)
    assert result.outcome == "transient"
    assert sink.received == []


def test_a_certificate_we_do_not_trust_is_refused(
    tls_server: tuple[SmtpSink, int, str],
) -> None:
    sink, port, mode = tls_server
    settings = SmtpSettings(
        port=port,
        starttls=mode == "starttls",
        ssl=mode == "implicit",
        username="shop",
        password="s3cret",
        timeout_s=5,
    )
    result = SmtpChannel(settings).send(MESSAGE)  # the system's CAs only
    assert result.outcome == "transient"
    assert sink.received == []
