"""``autodevai chat``: its options, and the loop that reads a conversation from the terminal or a pipe.

Each line is a message (a line ending with ``\\`` continues on the next); answers stream to stdout, the model's
reasoning (dimmed) and a one-line footer per answer go to stderr. A line starting with ``/`` is a command
(``chat_session.COMMANDS``; ``//`` sends a message that starts with ``/``). ``-c``/``--continue`` resumes the most
recent conversation (a new one starts, with a notice, when there is none) and ``--conversation ID`` a given one.

The loop reads with ``input()`` (line editing through ``readline`` where Python has it) between turns and runs
each line on one event loop (``asyncio.Runner``), so Ctrl+C during an answer stops that answer and the chat goes on;
Ctrl+C at the prompt ends the chat (exit 130); ``/quit`` or Ctrl+D (the end of a pipe) ends it. The exit code is 0
when nothing failed, else that of the last failure (``exits``: an engine error's class, 2 for a command misused),
so a script piping a chat notices.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import textwrap
from typing import Any, TextIO

from autodevai.cli.chat import HEDGE_HELP
from autodevai.cli.chat_session import ChatSession, commands_help
from autodevai.cli.session import Needs, open_app
from autodevai.engine import Preference
from autodevai.engine import errors as E

__all__ = ["LineReader", "add_parser", "cmd_chat"]


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``chat`` verb on the top parser's subparsers ``sub``."""
    p = sub.add_parser(
        "chat",
        parents=[common],
        help="an interactive conversation: history kept, /compare models, /regen, /export",
        description="Chat with models: each line is a message, answers stream, the thread is kept (in the same "
        "store as the window's conversations). Works with a pipe too: one message or command per line.",
        epilog="commands:\n" + textwrap.indent(commands_help(), "  ") + "\n\nCtrl+C stops an answer; at the "
        "prompt it ends the chat (exit 130).\nThe exit code is that of the last failure (0 when nothing failed).\n"
        "--json prints JSON Lines: one object per answer, compared answer, pick, history, export or error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "-c", "--continue", dest="continue_latest", action="store_true", help="resume the most recent conversation"
    )
    which.add_argument("--conversation", metavar="ID", help="resume this conversation (id or a unique prefix)")
    p.add_argument("--model", "-m", help="answer with this model (default: routed)")
    p.add_argument("--preference", "-p", choices=[x.value for x in Preference], help="routing preference")
    p.add_argument("--system", help="a system prompt for the conversation")
    p.add_argument("--max-tokens", type=int, default=None, help="the longest answer (default 1024)")
    p.add_argument("--hedge", action=argparse.BooleanOptionalAction, default=None, help=HEDGE_HELP)
    p.set_defaults(func=cmd_chat)


class LineReader:
    """Lines from ``stream``: through ``input()`` (with ``readline`` editing when available) on a terminal, read
    plainly from a pipe. Raises ``EOFError`` at the end (Ctrl+D)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdin
        self.tty = self.stream is sys.stdin and self.stream.isatty()
        if self.tty:
            with contextlib.suppress(ImportError):  # Windows has no readline: input() works, without editing
                import readline  # noqa: F401  # importing it gives input() line editing and history

    def _one(self, prompt: str) -> str:
        if self.tty:
            return input(prompt)
        raw = self.stream.readline()
        if not raw:
            raise EOFError
        return raw.rstrip("\r\n")

    def read(self, prompt: str) -> str:
        """One message: a line, and the next ones while a line ends with a backslash."""
        line = self._one(prompt)
        while line.endswith("\\"):
            try:
                line = line[:-1] + "\n" + self._one("... ")
            except EOFError:
                return line[:-1]
        return line


def cmd_chat(args: argparse.Namespace) -> int:
    """``autodevai chat`` (a plain function, not a coroutine: it owns its event loop, see the module docstring)."""
    if args.max_tokens is not None and not 1 <= args.max_tokens <= 1_000_000:
        raise E.InvalidRequest("--max-tokens must be between 1 and 1,000,000")
    reader = LineReader()
    with asyncio.Runner() as runner:
        app = runner.run(open_app(args, Needs.MODELS))
        try:
            session = ChatSession(
                app.engine,
                as_json=args.json,
                max_tokens=args.max_tokens,
                out=sys.stdout,
                err=sys.stderr,
                hedge=args.hedge,
            )
            runner.run(session.start(args, banner=reader.tty))
            while True:
                try:
                    line = reader.read(session.prompt())
                except EOFError:
                    if reader.tty:
                        print(file=sys.stderr)
                    break
                try:
                    if not runner.run(session.handle(line)):
                        break
                except (KeyboardInterrupt, asyncio.CancelledError):
                    if not reader.tty:
                        raise
                    session.note("\n(stopped; /regen asks again)")
            return session.failure
        finally:
            runner.run(app.aclose())
