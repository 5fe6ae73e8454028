"""The swarm's message bus: an in-memory, ordered record of what agents said to whom, with live listeners.

Every topology publishes here (tasks, drafts, critiques, answers, votes, leader changes, consensus, errors), so
a user can replay how an answer was made and the GUI can follow a run as it happens. Pure and synchronous:
``publish`` appends and calls listeners at once, in the publisher's task; there is no I/O and no queue to drain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "MESSAGE_KINDS",
    "BusMessage",
    "Listener",
    "MessageBus",
]

log = logging.getLogger("autodevai.engine")

MESSAGE_KINDS: tuple[str, ...] = ("task", "draft", "critique", "answer", "vote", "consensus", "leader", "error")

Listener = Callable[["BusMessage"], None]


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One message. ``recipients`` empty means broadcast; ``at`` is the event loop's clock when it was sent."""

    kind: str  # one of MESSAGE_KINDS
    sender: str  # an agent name or "swarm"
    recipients: tuple[str, ...]  # () = broadcast
    round: int
    content: str
    at: float


def _now() -> float:
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:  # published outside a loop (a unit test, a replay): the loop clock is monotonic too
        return time.monotonic()


class MessageBus:
    """Records messages in order and notifies listeners synchronously."""

    def __init__(self) -> None:
        self._messages: list[BusMessage] = []
        self._listeners: list[Listener] = []

    def publish(self, msg: BusMessage) -> None:
        """Record ``msg`` and hand it to every listener. A failing listener is logged, never the swarm's fault."""
        self._messages.append(msg)
        for listener in list(self._listeners):
            try:
                listener(msg)
            except Exception:  # a GUI or log listener must not break a running swarm
                log.exception("a swarm bus listener failed on a %r message", msg.kind)

    def post(
        self, kind: str, sender: str, content: str, *, round: int = 0, recipients: tuple[str, ...] = ()
    ) -> BusMessage:
        """Build a message stamped with the loop's time, publish it and return it."""
        msg = BusMessage(kind, sender, recipients, round, content, _now())
        self.publish(msg)
        return msg

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every later message; returns a function that unsubscribes it (idempotent)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def inbox(self, agent: str) -> list[BusMessage]:
        """Messages addressed to ``agent`` or broadcast, oldest first."""
        return [m for m in self._messages if not m.recipients or agent in m.recipients]

    @property
    def history(self) -> list[BusMessage]:
        """Every message so far, oldest first (a copy)."""
        return list(self._messages)
