"""An in-memory channel for unit and service tests: records what it was asked to send.

``script`` lets a test say what the "server" answers for a given address, in order
(e.g. two timeouts, then success); anything unscripted is delivered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from regulars.channels.base import ChannelName, Message, SendResult


class FakeChannel:
    def __init__(
        self,
        name: ChannelName = "email",
        script: dict[str, Iterable[SendResult]] | None = None,
    ) -> None:
        self.name = name
        self.sent: list[Message] = []
        self.attempts: list[Message] = []
        self.closed = 0
        self._script: dict[str, list[SendResult]] = defaultdict(list)
        for address, answers in (script or {}).items():
            self._script[address].extend(answers)

    def address_problem(self, address: str | None) -> str | None:
        if self.name == "webhook":
            return None
        return None if address else f"the customer has no address for {self.name}"

    def send(self, message: Message) -> SendResult:
        self.attempts.append(message)
        queue = self._script.get(message.to)
        result = queue.pop(0) if queue else SendResult.sent(provider_id=f"fake-{len(self.sent)}")
        if result.ok:
            self.sent.append(message)
        return result

    def close(self) -> None:
        self.closed += 1

    def sent_keys(self) -> list[str]:
        return [m.key for m in self.sent]


__all__ = ["FakeChannel"]
