"""The chat request of ``autodevai run`` and ``autodevai route``: its options, the ``ChatRequest`` they build, and
how the answer is printed (streamed text, reasoning, tool calls, structured JSON).

Where things go: the answer (text, pretty JSON for ``--schema``, tool calls) goes to stdout; the model's
reasoning, a refusal and the footer go to stderr, so ``autodevai run ... > out.txt`` keeps only the answer.
Reasoning is printed under a ``reasoning:`` line, dimmed when stderr is a terminal (and ``NO_COLOR`` is unset).
With ``--schema`` the text is not echoed while it streams: the parsed JSON is printed, indented, at the end;
with ``--json`` only the JSON document goes to stdout (the reasoning is in it); with ``--stream --json`` stdout is JSON
Lines: one object per piece as it arrives (``delta``, ``reasoning``, ``refusal``, ``tool_call``, ``model``) and a last
``{"type": "response", ...}`` holding the object ``--json`` prints (see ``stream_json_lines``).
Tool calls are printed once assembled (from the final response), each as its name and indented arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any, TextIO

from pydantic import ValidationError

from autodevai.cli import inputs
from autodevai.cli.render import json_line
from autodevai.engine.errors import InvalidRequest
from autodevai.engine.prompt import build_request as request_from_prompt
from autodevai.engine.serialize import to_jsonable
from autodevai.engine.types import ChatRequest, EngineResponse, Preference, StreamDelta, ToolCall
from autodevai.text import validation_text

EXAMPLES = """examples:
  autodevai run "What is in this picture?" --image chart.png
  autodevai run "Summarize the findings" --file report.pdf --file notes.md
  autodevai run "What is 17*23?" --schema answer.json --json
  autodevai run "Weather in Paris?" --tools tools.json --tool-choice required
  autodevai run "Is 91 prime?" --reasoning high --stream
  autodevai run "Is 91 prime?" --stream --json    # JSON Lines: one event per line, the response last

--json prints one JSON document (the response). With --stream, --json prints JSON Lines instead: one object per
line as the answer arrives, {"type": "delta", "text": ...}, {"type": "reasoning", "text": ...},
{"type": "tool_call", "index": ..., "id": ..., "name": ..., "arguments": ...} (argument fragments to join by
index), {"type": "refusal", "text": ...}, {"type": "model", "provider": ..., "model": ...} (this model is
answering), and last {"type": "response", ...} with the same fields as the --json document.
"""

__all__ = [
    "EXAMPLES",
    "HEDGE_HELP",
    "add_request_args",
    "answer_code",
    "answer_json",
    "build_request",
    "print_answer",
    "response_line",
    "stream_answer",
    "stream_json_lines",
]

_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")  # ReasoningConfig.effort
DIM, RESET = "\x1b[2m", "\x1b[0m"
HEDGE_HELP = (
    "when the model's first token is later than its usual (p95), start the next model too and keep the first "
    "answer (default: the resilience.hedge setting)"
)


def add_request_args(p: argparse.ArgumentParser) -> None:
    """The options of a chat request (``run`` and ``route``)."""
    p.add_argument("prompt", help="the prompt; '-' reads it from stdin")
    p.add_argument("--model", "-m", help="use this model id (fallbacks still apply)")
    p.add_argument("--preference", "-p", choices=[x.value for x in Preference], default=None, help="routing preference")
    p.add_argument("--max-tokens", type=int, default=512, help="the longest answer (default %(default)s)")
    p.add_argument("--temperature", type=float, help="sampling temperature, 0 to 2")
    p.add_argument("--seed", type=int, help="ask for a deterministic answer (models that support it)")
    p.add_argument("--stop", action="append", metavar="TEXT", help="stop the answer at TEXT (repeat, up to 16)")
    p.add_argument("--system", help="a system prompt")
    p.add_argument("--fallback", action="append", dest="fallbacks", metavar="MODEL", help="fallback model (repeat)")
    p.add_argument("--no-fallbacks", action="store_true", help="try only the chosen model")
    p.add_argument("--deadline", type=float, help="overall deadline in seconds")
    p.add_argument("--hedge", action=argparse.BooleanOptionalAction, default=None, help=HEDGE_HELP)
    media = p.add_argument_group("attachments (routing then picks a model that reads them)")
    media.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="FILE",
        help="attach an image: a PNG, JPEG, GIF or WEBP file up to 20 MB, or an https:// URL (repeat)",
    )
    media.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="FILE",
        help="attach a document up to 20 MB: a PDF (or other binary) is sent as a file part; "
        "a text or code file is inlined in the prompt (repeat)",
    )
    shape = p.add_argument_group("answer shape")
    shape.add_argument(
        "--schema",
        metavar="FILE.json",
        help="a JSON Schema the answer must follow (structured output, strict); the JSON answer is pretty-printed",
    )
    shape.add_argument(
        "--tools",
        metavar="FILE.json",
        help="a JSON list of OpenAI function tools (or bare {name, description, parameters} objects) the model "
        "may call; its tool calls are printed",
    )
    shape.add_argument(
        "--tool-choice",
        metavar="CHOICE",
        help="auto (default), none, required, or a tool name the model must call",
    )
    shape.add_argument(
        "--reasoning", choices=_EFFORTS, metavar="EFFORT", help="ask for reasoning: " + ", ".join(_EFFORTS)
    )


def build_request(args: argparse.Namespace, cli_provider: str | None = None) -> ChatRequest:
    """The ``ChatRequest`` the options describe. Raises ``InvalidRequest`` (exit 2) for bad values or files."""
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    parts = [inputs.file_part(f) for f in args.file] + [inputs.image_part(f) for f in args.image]
    fields: dict[str, Any] = {
        "temperature": args.temperature,
        "seed": args.seed,
        "stop": args.stop,
        "deadline_s": args.deadline,
        "provider": cli_provider,
    }
    if args.hedge is not None:
        fields["hedge"] = args.hedge
    if args.no_fallbacks:
        fields["fallbacks"] = []
    elif args.fallbacks:
        fields["fallbacks"] = args.fallbacks
    if args.schema:
        fields["response_format"] = inputs.load_response_format(args.schema)
    if args.tools:
        fields["tools"] = inputs.load_tools(args.tools)
    if args.tool_choice:
        choice = args.tool_choice
        named = choice not in ("auto", "none", "required")
        fields["tool_choice"] = {"type": "function", "function": {"name": choice}} if named else choice
    if args.reasoning:
        fields["reasoning"] = {"effort": args.reasoning}
    if args.stop and not all(args.stop):
        raise InvalidRequest("--stop: a stop sequence cannot be empty")
    try:
        return request_from_prompt(
            prompt,
            system=args.system or None,
            model=args.model,
            preference=args.preference,
            max_tokens=args.max_tokens,
            parts=parts,
            **fields,
        )
    except ValidationError as exc:
        raise InvalidRequest(validation_text(exc)[0]) from None


# ---- printing ---------------------------------------------------------------------------------------------


def _dim(stream: TextIO) -> tuple[str, str]:
    """ANSI dim on/off when ``stream`` is a terminal and NO_COLOR is unset (https://no-color.org), else ''."""
    tty = hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")
    return (DIM, RESET) if tty else ("", "")


class _Printer:
    """Writes a streamed answer: text to ``out``, reasoning as a dimmed block on ``err`` (closed before text)."""

    def __init__(self, out: TextIO, err: TextIO, echo_text: bool) -> None:
        self.out, self.err, self.echo_text = out, err, echo_text
        self.in_reasoning = False
        self.wrote_text = False
        self.last_char = "\n"

    def reasoning(self, text: str) -> None:
        on, off = _dim(self.err)
        if not self.in_reasoning:
            self.err.write("reasoning:\n")
            self.in_reasoning = True
        self.err.write(f"{on}{text}{off}")
        self.err.flush()

    def end_reasoning(self) -> None:
        if self.in_reasoning:
            self.err.write("\n\n")
            self.err.flush()
            self.in_reasoning = False

    def text(self, text: str) -> None:
        self.end_reasoning()
        if self.echo_text and text:
            self.out.write(text)
            self.out.flush()
            self.wrote_text = True
            self.last_char = text[-1]

    def finish(self) -> None:
        self.end_reasoning()
        if self.wrote_text and self.last_char != "\n":
            self.out.write("\n")
            self.out.flush()


async def stream_answer(
    items: AsyncIterator[Any],
    request: ChatRequest | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    *,
    echo_text: bool = True,
) -> EngineResponse:
    """Print an engine stream (``Engine.stream_enhanced_ai_request`` or a conversation turn's, see ``turns``):
    text to ``out`` as it arrives (unless ``echo_text`` is False or ``request`` asks for structured JSON, printed
    whole at the end), reasoning to ``err``. Returns the final response. ``request`` is None for a conversation
    turn of ``chat`` (never structured)."""
    printer = _Printer(out, err, echo_text=echo_text and not _wants_json(request))
    final: EngineResponse | None = None
    async for item in items:
        if isinstance(item, str):
            printer.text(item)
        elif isinstance(item, StreamDelta):
            if item.reasoning:
                printer.reasoning(item.reasoning)
        elif isinstance(item, EngineResponse):
            final = item
    printer.finish()
    if final is None:
        raise RuntimeError("the stream ended without a final response")
    return final


def _line(out: TextIO, event: dict[str, Any]) -> None:
    out.write(json_line(event) + "\n")
    out.flush()


async def stream_json_lines(items: AsyncIterator[Any], out: TextIO = sys.stdout) -> EngineResponse:
    """Print an engine stream as JSON Lines on ``out`` (``run --stream --json``), one object per piece as it arrives:
    ``{"type": "model", "provider", "model"}`` when a model starts answering, ``{"type": "delta", "text"}``,
    ``{"type": "reasoning", "text"}``, ``{"type": "refusal", "text"}``, ``{"type": "tool_call", "index", "id",
    "name", "arguments"}`` (a piece: ``id`` and ``name`` come once, ``arguments`` in fragments to concatenate by
    ``index``). The caller writes the last line, ``{"type": "response", ...}``. Returns the final response."""
    final: EngineResponse | None = None
    async for item in items:
        if isinstance(item, str):
            if item:
                _line(out, {"type": "delta", "text": item})
        elif isinstance(item, StreamDelta):
            if item.is_marker:
                _line(out, {"type": "model", "provider": item.provider, "model": item.model})
            if item.reasoning:
                _line(out, {"type": "reasoning", "text": item.reasoning})
            if item.refusal:
                _line(out, {"type": "refusal", "text": item.refusal})
            for piece in item.tool_calls:
                event: dict[str, Any] = {"type": "tool_call", "index": piece.index}
                event.update({k: v for k, v in (("id", piece.id), ("name", piece.name)) if v is not None})
                event["arguments"] = piece.arguments
                _line(out, event)
        elif isinstance(item, EngineResponse):
            final = item
    if final is None:
        raise RuntimeError("the stream ended without a final response")
    return final


def response_line(response: EngineResponse, request: ChatRequest) -> dict[str, Any]:
    """The last line of ``run --stream --json``: ``{"type": "response"}`` plus the object ``run --json`` prints."""
    return {"type": "response", **answer_json(response, request)}


def _parsed_json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def _wants_json(request: ChatRequest | None) -> bool:
    return request is not None and request.response_format is not None and request.response_format.type != "text"


def answer_code(response: EngineResponse, request: ChatRequest | None) -> int:
    """The exit code an answer earns: 1 when structured output was asked for and the answer is not JSON."""
    return 1 if _wants_json(request) and not response.tool_calls and not _parsed_json(response.content)[0] else 0


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _tool_call_text(call: ToolCall) -> str:
    ok, args = _parsed_json(call.arguments or "{}")
    body = _pretty(args) if ok else f"{call.arguments}\n(the arguments are not valid JSON)"
    return f"tool call: {call.name}  [{call.id}]\n" + "\n".join("  " + line for line in body.splitlines())


def print_answer(
    response: EngineResponse,
    request: ChatRequest | None,
    *,
    streamed: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Print what ``stream_answer`` did not: the answer (pretty JSON for a schema), reasoning, a refusal and the
    tool calls. Returns 0, or 1 when a ``--schema`` answer is not valid JSON."""
    if not streamed and response.reasoning:
        on, off = _dim(err)
        print(f"reasoning:\n{on}{response.reasoning.strip()}{off}\n", file=err)
    code = answer_code(response, request)
    if _wants_json(request) and response.content:
        ok, value = _parsed_json(response.content)
        print(_pretty(value) if ok else response.content, file=out)
        if not ok:
            why = " (it stopped at the max-tokens limit)" if response.finish_reason == "length" else ""
            print(f"warning: the answer is not valid JSON{why}", file=err)
    elif not streamed and response.content:
        print(response.content, file=out)
    if response.refusal:
        print(f"refusal: {response.refusal}", file=err)
    for n, call in enumerate(response.tool_calls):
        if n or response.content:
            print(file=out)
        print(_tool_call_text(call), file=out)
    return code


def answer_json(response: EngineResponse, request: ChatRequest | None) -> dict[str, Any]:
    """The response as JSON for ``--json``: every field, each tool call's ``parsed_arguments`` and, for a schema,
    ``parsed`` (the answer's JSON value; null when it is not valid JSON)."""
    data: dict[str, Any] = to_jsonable(response)
    for call, item in zip(response.tool_calls, data.get("tool_calls", []), strict=False):
        item["parsed_arguments"] = _parsed_json(call.arguments or "{}")[1]
    if _wants_json(request):
        data["parsed"] = _parsed_json(response.content)[1]
    return data
