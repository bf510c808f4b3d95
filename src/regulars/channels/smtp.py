"""E-mail over SMTP with the standard library: plain, STARTTLS or implicit TLS, optional login.

Refusals are classified the way RFC 5321 means them: a 5xx reply (no such mailbox, policy
refusal) is permanent and the planner falls back to another touch; a 4xx reply, a refused
connection or a server that stops answering within ``timeout_s`` is transient and retried.
One connection is kept open for a batch and dropped after any error.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from regulars.channels.base import ChannelName, Message, SendResult
from regulars.domain.customers import normalise_email


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 1025
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "regulars <hello@regulars.example>"
    timeout_s: float = 10.0


class SmtpChannel:
    """Sends e-mail through one SMTP server (a relay, a provider's submission port, aiosmtpd)."""

    name: ChannelName = "email"

    def __init__(self, settings: SmtpSettings, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.tls_context = tls_context or ssl.create_default_context()
        self._conn: smtplib.SMTP | None = None

    def address_problem(self, address: str | None) -> str | None:
        if not address:
            return "the customer has no e-mail address"
        try:
            normalise_email(address)
        except ValueError:
            return f"{address!r} is not a valid e-mail address"
        return None

    def message_id(self, message: Message) -> str:
        """The same Message-ID on every attempt, so a repeat can be recognised downstream."""
        domain = parseaddr(self.settings.sender)[1].rpartition("@")[2] or "regulars.local"
        return f"<{message.idempotency_key}@{domain}>"

    def build(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = ascii_domain(message.to)
        email["Subject"] = message.subject
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email["Message-ID"] = self.message_id(message)
        email["X-Regulars-Key"] = message.idempotency_key
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.text)
        if message.html:
            email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: Message) -> SendResult:
        problem = self.address_problem(message.to)
        if problem is not None:
            return SendResult.permanent(problem)
        email = self.build(message)
        try:
            conn = self._connection()
            conn.send_message(email)
        except smtplib.SMTPNotSupportedError as error:
            # Raised before MAIL FROM (the session is still clean): this server will never
            # carry a non-ASCII mailbox name, so retrying only delays the planner's fallback.
            return SendResult.permanent(f"the SMTP server cannot carry this address: {error}")
        except smtplib.SMTPAuthenticationError as error:
            self._drop()
            return SendResult.transient(f"the SMTP server refused our login: {_reply(error)}")
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            code, text = next(iter(error.recipients.values()), (450, b"refused"))
            return _classify(code, f"recipient refused: {code} {_text(text)}")
        except smtplib.SMTPResponseException as error:
            self._drop()
            return _classify(error.smtp_code, f"SMTP server said {_reply(error)}")
        except (TimeoutError, smtplib.SMTPServerDisconnected) as error:
            self._drop()
            if isinstance(error, TimeoutError) or "timed out" in str(error):
                return SendResult.transient(
                    f"SMTP server did not answer within {self.settings.timeout_s:g} s"
                )
            return SendResult.transient(f"SMTP server disconnected: {error}")
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            return SendResult.transient(f"SMTP connection failed: {type(error).__name__}: {error}")
        return SendResult.sent(provider_id=email["Message-ID"])

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        s = self.settings
        conn: smtplib.SMTP
        if s.ssl:
            conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self.tls_context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            conn.ehlo()
            if s.starttls and not s.ssl:
                conn.starttls(context=self.tls_context)
                conn.ehlo()
            if s.username:
                conn.login(s.username, s.password or "")
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _reset(self) -> None:
        """After a refused recipient the session is still usable once reset."""
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def ascii_domain(address: str) -> str:
    """The address with its domain in IDNA form (``ana@café.pt`` → ``ana@xn--caf-dma.pt``).

    Most relays do not offer SMTPUTF8; an international domain needs none once encoded, so
    only a non-ASCII mailbox name (``joão@…``) still depends on the server.
    """
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else raw


def _reply(error: smtplib.SMTPResponseException) -> str:
    return f"{error.smtp_code} {_text(error.smtp_error)}"


def _classify(code: int, detail: str) -> SendResult:
    return SendResult.permanent(detail) if 500 <= code < 600 else SendResult.transient(detail)


__all__ = ["SmtpChannel", "SmtpSettings", "ascii_domain"]
