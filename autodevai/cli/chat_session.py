"""One ``autodevai chat`` session: the current conversation (created with the first message, so a chat left
without one stores nothing), its settings, the slash commands (``COMMANDS``), an armed or pending comparison, and
the exit code of the last failure. The loop that reads lines and runs them is ``repl``.

``/compare A B [C D]`` asks 2 to 4 models (ids, or cheapest, best, fastest, balanced) the next message at once;
``/compare A B -- TEXT`` asks them TEXT right away. Each answer shows with its model, cost and latency as it
finishes, and the thread waits for ``/pick N``: a new message is refused until then (``/regen`` answers the
question with one model instead). ``/model``, ``/prefer`` and ``/system`` are the conversation's settings, stored
with it (its ``Preset``), so a resumed chat keeps them; ``/new`` starts another conversation with the same ones.

Text answers stream to ``out``, reasoning and notices go to ``err``; with ``as_json`` each answer, compared answer,
pick, history and export is one JSON line on ``out`` (``{"type": "answer" | "compare" | "pick" | "history" |
"export" | "error", ...}``) and the notices stay on ``err``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO

from autodevai.cli import chat, turns
from autodevai.cli.conversation_verbs import FORMATS
from autodevai.cli.exits import EXIT_INPUT, exit_code
from autodevai.cli.render import fmt_usd, json_line
from autodevai.engine import Engine, Preference
from autodevai.engine import errors as E
from autodevai.engine.chat import COMPARE_ALIASES, ChatTurn
from autodevai.engine.conversations import Conversation, Preset
from autodevai.text import did_you_mean, fmt_ms, suggestion

__all__ = ["ALIASES", "COMMANDS", "ChatSession", "commands_help"]

COMMANDS = {  # name -> (usage, what it does)
    "/model": ("/model ID | auto", "answer with this model from now on (auto: routing chooses)"),
    "/prefer": ("/prefer cost|quality|speed|balanced", "what routing optimizes for"),
    "/system": ("/system [TEXT | off]", "show, set or clear the system prompt"),
    "/compare": ("/compare A B [C D] [-- TEXT]", "2-4 models (ids, cheapest, best, fastest, balanced) answer the "
                 "next message, or TEXT"),
    "/pick": ("/pick N", "continue with answer N of the comparison"),
    "/regen": ("/regen [MODEL]", "another answer to the last message (from MODEL)"),
    "/history": ("/history", "the conversation so far (its current branch)"),
    "/export": ("/export [md | json] [FILE]", "the conversation as Markdown or JSON, to FILE or the screen"),
    "/new": ("/new", "start another conversation"),
    "/help": ("/help", "this list"),
    "/quit": ("/quit", "end the chat (also /exit, Ctrl+D)"),
    "//": ("//TEXT", "send a message that starts with /"),
}  # fmt: skip
ALIASES = {"/exit": "/quit", "/q": "/quit", "/prefs": "/prefer", "/preference": "/prefer", "/h": "/help"}


def commands_help() -> str:
    """The commands, one per line: usage, then what it does."""
    return "\n".join(f"{usage:<36} {what}" for usage, what in COMMANDS.values())


class ChatSession:
    """The state of one ``chat``: the current conversation (None until the first message), its settings, an armed
    or pending comparison, and the last failure's exit code."""

    def __init__(
        self,
        engine: Engine,
        *,
        as_json: bool,
        max_tokens: int | None,
        out: TextIO,
        err: TextIO,
        hedge: bool | None = None,
    ) -> None:
        self.engine, self.as_json, self.max_tokens, self.out, self.err = engine, as_json, max_tokens, out, err
        self.hedge = hedge  # ChatRequest.hedge for every answer (None: the resilience.hedge setting)
        self.conv: Conversation | None = None
        self.preset = Preset()
        self.armed: list[str] | None = None  # /compare targets waiting for the next message
        self.pending: dict[int, ChatTurn] | None = None  # compared answers (1-based) waiting for /pick
        self.failure = 0
        self._commands: dict[str, Callable[[str], Awaitable[bool | None]]] = {
            "/model": self.model, "/prefer": self.prefer, "/system": self.system, "/compare": self.compare,
            "/pick": self.pick, "/regen": self.regen, "/history": self.history, "/export": self.export,
            "/new": self.new, "/help": self.help, "/quit": self.quit,
        }  # fmt: skip

    # ---- output ----------------------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def emit(self, record: dict[str, Any]) -> None:
        print(json_line(record), file=self.out, flush=True)

    def fail(self, message: str, code: int = EXIT_INPUT) -> None:
        self.failure = code
        if self.as_json:
            self.emit({"type": "error", "message": message, "code": code})
        self.note(f"error: {message}")

    def prompt(self) -> str:
        if self.pending:
            return "pick> "
        return f"you [compare {', '.join(self.armed)}]> " if self.armed else "you> "

    # ---- the loop's entry points -----------------------------------------------------------------------------

    async def start(self, args: argparse.Namespace, *, banner: bool) -> None:
        """Resume the conversation ``args`` names (if any) and apply the command line's settings."""
        if args.conversation:
            self.conv = await turns.resolve(self.engine, args.conversation)
        elif args.continue_latest:
            self.conv = await turns.latest(self.engine)
            if self.conv is None:
                self.note("no conversation to continue: this one starts with your first message")
        if self.conv is not None:
            self.preset = self.conv.preset
        changes: dict[str, Any] = {}
        if args.model:
            changes["model"] = self._checked_model(args.model)
        if args.preference:
            changes["preference"] = Preference(args.preference)
        if args.system:
            changes["system"] = args.system
        if changes:
            await self._set(**changes)
        if self.conv is not None:
            c = self.conv
            self.note(f"resuming {c.title!r} ({c.id}, {c.message_count} messages; /history shows them)")
        if banner:
            self.note(f"chat ({self._settings()}): type a message; /help lists the commands, /quit or Ctrl+D ends")

    async def handle(self, line: str) -> bool:
        """Act on one line; False ends the chat. Errors are reported and the chat goes on."""
        text = line.strip()
        if not text:
            return True
        try:
            if text.startswith("/") and not text.startswith("//"):
                name, _, rest = text.partition(" ")
                name = ALIASES.get(name.lower(), name.lower())
                command = self._commands.get(name)
                if command is None:
                    close = suggestion(did_you_mean(name, [*self._commands, *ALIASES]))
                    self.fail(f"unknown command {name}{close}; /help lists them")
                    return True
                return await command(rest.strip()) is not False
            await self.send(text[1:] if text.startswith("//") else text)
        except E.EngineError as exc:
            self.fail(str(exc), exit_code(exc))
        return True

    # ---- turns -----------------------------------------------------------------------------------------------

    async def _conversation(self) -> Conversation:
        if self.conv is None:
            self.conv = await self.engine.conversations.create(preset=self.preset)
        return self.conv

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"max_tokens": self.max_tokens} if self.max_tokens else {}
        if self.hedge is not None:
            options["hedge"] = self.hedge
        return options

    async def send(self, text: str) -> None:
        if self.pending:
            self.fail(f"pick an answer first: /pick 1-{max(self.pending)} (or /regen for one answer)")
            return
        conv = await self._conversation()
        if self.armed:
            targets, self.armed = self.armed, None
            await self._compare(conv, text, targets)
            return
        await self._answer(self.engine.conversations.send(conv.id, text, **self._options()))

    async def _answer(self, items: Any) -> None:
        """Print one streamed turn (or its JSON line) and its footer."""
        if self.as_json:
            turn = await turns.drain(items)
            self.emit({"type": "answer", **chat.answer_json(turn.response, None), **turns.turn_ids(turn)})
            return
        got: list[ChatTurn] = []
        response = await chat.stream_answer(turns.responses(items, got), None, self.out, self.err)
        chat.print_answer(response, None, streamed=True, out=self.out, err=self.err)
        turns.turn_footer(got[0], self.err)

    async def _compare(self, conv: Conversation, text: str, targets: list[str]) -> None:
        self.pending = {}
        async for i, result in self.engine.conversations.compare(conv.id, text, targets, **self._options()):
            n, target = i + 1, targets[i]
            if isinstance(result, E.EngineError):
                if self.as_json:
                    error = {"error": str(result), "code": exit_code(result)}
                    self.emit({"type": "compare", "index": n, "target": target, **error})
                else:
                    print(f"[{n}] {target}: error: {result}\n", file=self.out, flush=True)
                continue
            self.pending[n] = result
            a = result.answer
            if self.as_json:
                record = {"type": "compare", "index": n, "target": target, "model": a.model, "content": a.text}
                self.emit({**record, "cost_usd": a.cost_usd, "latency_ms": a.latency_ms, **turns.turn_ids(result)})
                continue
            chosen = a.model if a.model == target else f"{target} → {a.model}"
            head = f"[{n}] {chosen} · {fmt_usd(a.cost_usd)} · {fmt_ms(a.latency_ms)}"
            print(f"{head}\n{a.text.rstrip()}\n", file=self.out, flush=True)
        if not self.pending:
            self.pending = None
            self.fail("every model failed; /regen asks one model again")
        else:
            self.note(f"continue with one: /pick {' or '.join(str(n) for n in sorted(self.pending))}")

    # ---- commands --------------------------------------------------------------------------------------------

    def _checked_model(self, model: str) -> str:
        """``model`` when the catalog knows it (or the catalog is empty); else ``InvalidRequest`` with suggestions."""
        if self.engine.find_model(model) is None and self.engine.models():
            close = suggestion(self.engine.suggest_models(model))
            raise E.InvalidRequest(
                f"unknown model {model!r}{close}", hint="`autodevai models TEXT` searches the catalog"
            )
        return model

    async def _set(self, **changes: Any) -> None:
        self.preset = self.preset.model_copy(update=changes)
        if self.conv is not None:
            await self.engine.conversations.set_preset(self.conv.id, self.preset)

    def _settings(self) -> str:
        p = self.preset
        how = f"model {p.model}" if p.model else f"routing: {(p.preference or Preference.BALANCED).value}"
        return how + (", system prompt set" if p.system else "")

    async def model(self, arg: str) -> None:
        if not arg:
            self.note(self._settings())
            return
        await self._set(model=None if arg.lower() == "auto" else self._checked_model(arg))
        self.note(self._settings())

    async def prefer(self, arg: str) -> None:
        try:
            preference = Preference(arg.lower())
        except ValueError:
            self.fail(f"/prefer takes {', '.join(p.value for p in Preference)}")
            return
        await self._set(preference=preference)
        self.note(self._settings() + ("" if not self.preset.model else " (/model auto lets routing choose)"))

    async def system(self, arg: str) -> None:
        if not arg:
            self.note(f"system prompt: {self.preset.system}" if self.preset.system else "no system prompt")
            return
        await self._set(system=None if arg.lower() == "off" else arg)
        self.note("system prompt set" if self.preset.system else "system prompt cleared")

    async def compare(self, arg: str) -> None:
        head, _, text = f" {arg} ".partition(" -- ")
        targets = head.split()
        if not 2 <= len(targets) <= 4:
            self.fail("/compare takes 2 to 4 models: ids, or cheapest, best, fastest, balanced")
            return
        for target in targets:
            if target not in COMPARE_ALIASES:
                self._checked_model(target)
        if self.pending:
            self.fail(f"pick an answer of the last comparison first: /pick 1-{max(self.pending)}")
            return
        self.armed = targets
        if text.strip():
            await self.send(text.strip())
        else:
            self.note(f"your next message goes to {', '.join(targets)}")

    async def pick(self, arg: str) -> None:
        if not self.pending or self.conv is None:
            self.fail("nothing to pick: /compare A B first")
            return
        if not arg.isdigit() or int(arg) not in self.pending:
            self.fail(f"/pick takes {' or '.join(str(n) for n in sorted(self.pending))}")
            return
        chosen = self.pending[int(arg)]
        await self.engine.conversations.pick(self.conv.id, chosen.answer.id)
        self.pending = None
        if self.as_json:
            self.emit({"type": "pick", "index": int(arg), **turns.turn_ids(chosen), "model": chosen.answer.model})
        self.note(f"continuing with [{arg}] {chosen.answer.model}")

    async def regen(self, arg: str) -> None:
        thread = await self.engine.conversations.open(self.conv.id) if self.conv else None
        if thread is None or not thread.messages:
            self.fail("nothing to regenerate yet")
            return
        options = self._options() | ({"model": self._checked_model(arg)} if arg else {})
        self.pending = None
        items = self.engine.conversations.regenerate(thread.conversation.id, thread.messages[-1].id, **options)
        await self._answer(items)

    async def history(self, arg: str) -> None:
        if self.conv is None:
            self.note("nothing said yet")
            return
        thread = await self.engine.conversations.open(self.conv.id)
        if self.as_json:
            self.emit({"type": "history", **turns.thread_json(thread)})
        else:
            turns.print_thread(thread, self.out)

    async def export(self, arg: str) -> None:
        first, _, rest = arg.partition(" ")
        fmt, target = (FORMATS[first.lower()], rest.strip()) if first.lower() in FORMATS else ("markdown", arg)
        if self.conv is None:
            self.fail("nothing to export yet")
            return
        text = await self.engine.conversations.export(self.conv.id, fmt)
        if target:
            try:
                await asyncio.to_thread(_write, target, text)
            except OSError as exc:
                self.fail(f"/export {target}: cannot write it ({exc.strerror or exc})")
                return
            self.note(f"wrote {target} ({fmt})")
        elif self.as_json:
            self.emit({"type": "export", "format": fmt, "text": text, "conversation_id": self.conv.id})
        else:
            print(text.rstrip("\n"), file=self.out, flush=True)

    async def new(self, arg: str) -> None:
        self.conv, self.armed, self.pending = None, None, None
        self.note(f"new conversation ({self._settings()}): it starts with your next message")

    async def help(self, arg: str) -> None:
        now = f"now: {self._settings()}" + (f", conversation {self.conv.id}" if self.conv else "")
        self.note(f"{commands_help()}\n{now}")

    async def quit(self, arg: str) -> bool:
        return False


def _write(target: str, text: str) -> None:
    Path(target).expanduser().write_text(text.rstrip("\n") + "\n", encoding="utf-8")
