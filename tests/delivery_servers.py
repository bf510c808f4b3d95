"""Real local servers for delivery tests: an aiosmtpd SMTP server and a small HTTP receiver.

Both run in a background thread on a free port and keep what they received. Their answers can
be scripted per recipient (SMTP) or per request (HTTP): refuse with a code, hang for a while,
or accept. Nothing here is a mock of our code; the channels talk real SMTP and HTTP to them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from regulars.channels.base import Channel
from regulars.channels.webhooks import WebhookChannel, WebhookSettings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def key(self) -> str:
        return str(self.message["X-Regulars-Key"])


@dataclass
class SmtpSink:
    """The handler aiosmtpd calls; scripts say how to answer RCPT for an address, in order.

    A script entry is ``"550"``/``"451"`` (refuse with that code), ``"hang:<seconds>"``
    (say nothing for that long), or ``"ok"``. ``before_data`` runs before a message is
    accepted (returning False refuses it; the crash test kills the worker there);
    ``after_data`` runs once it is stored but before the client hears "250": the window
    no outbox can close.
    """

    received: list[Received] = field(default_factory=list)
    scripts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    before_data: Callable[[int], bool | None] | None = None
    after_data: Callable[[int], None] | None = None
    data_delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        script = self.scripts.get(address)
        step = script.pop(0) if script else "ok"
        if step.startswith("hang:"):
            await asyncio.sleep(float(step.split(":", 1)[1]))
            return "451 4.3.0 too slow, try later"
        if step == "550":
            return "550 5.1.1 no such mailbox here"
        if step == "451":
            return "451 4.3.2 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.before_data is not None and self.before_data(len(self.received)) is False:
            return "451 4.3.0 aborted before acceptance"
        if self.data_delay_s:
            await asyncio.sleep(self.data_delay_s)
        parsed = message_from_bytes(
            envelope.content, _class=EmailMessage, policy=email_policy.default
        )
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
            count = len(self.received)
        if self.after_data is not None:
            self.after_data(count)
        return "250 2.0.0 accepted"

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(r.key for r in self.received)

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]


@contextmanager
def smtp_server(sink: SmtpSink | None = None) -> Iterator[tuple[SmtpSink, int]]:
    """An aiosmtpd server on a free port for the duration of the block."""
    sink = sink or SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class HttpRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpSink:
    """Requests received, and the answers to give (status codes, or ``"hang"``), in order."""

    requests: list[HttpRequest] = field(default_factory=list)
    answers: list[int | str] = field(default_factory=list)
    hang_s: float = 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler that answers with JSON and logs nothing."""

    def reply(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free local port from a background thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def http_server(sink: HttpSink | None = None) -> Iterator[tuple[HttpSink, str]]:
    """A threading HTTP server answering POSTs as scripted; yields (sink, base URL)."""
    sink = sink or HttpSink()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with sink.lock:
                answer = sink.answers.pop(0) if sink.answers else 200
                if answer != "hang":
                    sink.requests.append(HttpRequest(self.path, dict(self.headers), body))
            if answer == "hang":
                time.sleep(sink.hang_s)
                answer = 504
            payload = json.dumps({"id": f"prov-{len(sink.requests)}"}).encode()
            self.reply(int(answer), payload)

    with serving(Handler) as url:
        yield sink, url


def webhook_channels(url: str) -> dict[str, Channel]:
    """The channels for a delivery run whose webhooks go to ``url``/hook (an http_server)."""
    return {"webhook": WebhookChannel(WebhookSettings(url=f"{url}/hook", secret="whsec"))}
