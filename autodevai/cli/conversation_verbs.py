"""``autodevai conversations``: list, show, search, export, import, delete (and purge), restore, rename, pin and
unpin the stored conversations. None of them talks to a model, so none starts the built-in simulator
(``session.Needs.STORE``). Every one takes ``--json``; an unknown id or a bad file exits 2.

A conversation is named by its id or by a prefix of it that no other id shares (``autodevai conversations list``
shows the ids).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from autodevai.cli import turns
from autodevai.cli.render import dump_json, table
from autodevai.cli.session import Needs, with_app
from autodevai.compose import App
from autodevai.engine import errors as E

__all__ = ["FORMATS", "add_parser"]

FORMATS = {"md": "markdown", "markdown": "markdown", "json": "json"}
EMPTY = "no conversations yet: `autodevai chat` or `autodevai run --new-conversation PROMPT` starts one"
IMPORT_HINT = "give a JSON export (`autodevai conversations export ID --format json`, or /export json in chat)"

HELP = "list, show, search, export, import, delete or restore conversations (starts no model)"
DESCRIPTION = """The conversations kept by `autodevai chat`, `autodevai run -c/--conversation/--new-conversation`
and the window. None of these actions talks to a model. A conversation is named by its id or by a prefix of it
that no other id shares. Every action takes --json."""
EXAMPLES = """examples:
  autodevai conversations list
  autodevai conversations show 3fa1c2
  autodevai conversations search "connection pool"
  autodevai conversations export 3fa1c2 --format json -o thread.json
  autodevai conversations import thread.json        # prints the new conversation's id
  autodevai conversations delete 3fa1c2             # restore brings it back; --purge removes it for good
"""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``conversations`` verb and its actions, on the top parser's subparsers ``sub``."""
    p = sub.add_parser(
        "conversations",
        parents=[common],
        help=HELP,
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_list, deleted=False)
    actions = p.add_subparsers(dest="conversations_verb", metavar="ACTION")

    a = actions.add_parser("list", parents=[common], help="id, title, messages, cost, last update, pinned (default)")
    a.add_argument("--deleted", action="store_true", help="list the deleted conversations (restore brings them back)")
    a.set_defaults(func=cmd_list)

    a = actions.add_parser("show", parents=[common], help="the current branch of a conversation, with who answered")
    a.add_argument("id", help="conversation id (or a unique prefix)")
    a.set_defaults(func=cmd_show)

    a = actions.add_parser("search", parents=[common], help="messages containing every word of TEXT")
    a.add_argument("text", help="words to find (the last one also as a prefix)")
    a.add_argument("--limit", type=int, default=50, help="at most this many hits (default %(default)s)")
    a.set_defaults(func=cmd_search)

    a = actions.add_parser("export", parents=[common], help="the current branch as Markdown or as OpenAI-style JSON")
    a.add_argument("id", help="conversation id (or a unique prefix)")
    a.add_argument(
        "--format",
        "-f",
        choices=sorted(FORMATS),
        default=None,
        help="md or json (OpenAI's messages format, what `import` reads); default: json for an -o FILE.json or "
        "with --json, else md",
    )
    a.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    a.set_defaults(func=cmd_export)

    a = actions.add_parser("import", parents=[common], help="a conversation from an exported JSON file; prints its id")
    a.add_argument("file", help="a JSON export ({title, messages}) or a bare list of messages; '-' reads stdin")
    a.set_defaults(func=cmd_import)

    a = actions.add_parser("delete", parents=[common], help="move to the deleted list (restore undoes it)")
    a.add_argument("id", help="conversation id (or a unique prefix)")
    a.add_argument("--purge", action="store_true", help="remove it and its messages for good")
    a.set_defaults(func=cmd_delete)

    a = actions.add_parser("restore", parents=[common], help="bring back a deleted conversation")
    a.add_argument("id", help="conversation id (or a unique prefix)")
    a.set_defaults(func=cmd_restore)

    a = actions.add_parser("rename", parents=[common], help="give a conversation a new title")
    a.add_argument("id", help="conversation id (or a unique prefix)")
    a.add_argument("title")
    a.set_defaults(func=cmd_rename)

    for name, helptext in (("pin", "keep a conversation at the top of the list"), ("unpin", "undo pin")):
        a = actions.add_parser(name, parents=[common], help=helptext)
        a.add_argument("id", help="conversation id (or a unique prefix)")
        a.set_defaults(func=cmd_pin, pinned=name == "pin")


async def _store_verb(args: argparse.Namespace, body: Callable[[App], Awaitable[int]]) -> int:
    """Run ``body(app)`` over an engine that starts no provider (the store and settings only)."""
    return await with_app(args, Needs.STORE, body)


async def cmd_list(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        convs = await app.engine.conversations.listing(deleted=args.deleted)
        if args.json:
            dump_json([turns.conversation_json(c) for c in convs])
        elif not convs:
            print("no deleted conversations" if args.deleted else EMPTY, file=sys.stderr)
        else:
            turns.conversations_table(convs)
        return 0

    return await _store_verb(args, body)


async def cmd_show(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        conv = await turns.resolve(app.engine, args.id, deleted_ok=True)
        thread = await app.engine.conversations.open(conv.id)
        if args.json:
            dump_json(turns.thread_json(thread))
        else:
            turns.print_thread(thread)
        return 0

    return await _store_verb(args, body)


async def cmd_search(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise E.InvalidRequest("--limit must be at least 1", hint="")

    async def body(app: App) -> int:
        hits = await app.engine.conversations.search(args.text, args.limit)
        if args.json:
            dump_json(hits)
        elif not hits:
            print(f"no message matches {args.text!r}", file=sys.stderr)
        else:
            rows = [(h.conversation_id, turns.clip(h.conversation_title, 32), turns.WHO.get(h.role, h.role),
                     " ".join(h.snippet.split())) for h in hits]  # fmt: skip
            table(["conversation", "title", "who", "match"], rows)
        return 0

    return await _store_verb(args, body)


async def cmd_export(args: argparse.Namespace) -> int:
    fmt = _export_format(args)

    async def body(app: App) -> int:
        conv = await turns.resolve(app.engine, args.id, deleted_ok=True)
        text = await app.engine.conversations.export(conv.id, fmt)
        if args.output is not None:
            _write(args.output, text)
            record = {"conversation_id": conv.id, "format": fmt, "file": str(args.output)}
            if args.json:
                dump_json(record)
            else:
                print(f"wrote {args.output} ({fmt}, {conv.message_count} messages)", file=sys.stderr)
        elif args.json and fmt != "json":
            dump_json({"conversation_id": conv.id, "format": fmt, "text": text})
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0

    return await _store_verb(args, body)


def _export_format(args: argparse.Namespace) -> str:
    """--format, else what -o's suffix says (.json), else json with --json and Markdown without."""
    if args.format:
        return FORMATS[args.format]
    if args.output is not None:
        return "json" if args.output.suffix.lower() == ".json" else "markdown"
    return "json" if args.json else "markdown"


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise E.InvalidRequest(f"-o {path}: cannot write it ({exc.strerror or exc})", hint="check the path") from None


def _read(arg: str) -> str:
    """The text of FILE, or of stdin for '-'. Raises ``InvalidRequest`` naming the file."""
    if arg == "-":
        return sys.stdin.read()
    path = Path(arg)
    if not path.is_file():
        raise E.InvalidRequest(f"{arg}: no such file", hint=IMPORT_HINT)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise E.InvalidRequest(f"{arg}: not UTF-8 text", hint=IMPORT_HINT) from None
    except OSError as exc:
        raise E.InvalidRequest(f"{arg}: cannot read it ({exc.strerror or exc})", hint=IMPORT_HINT) from None


async def cmd_import(args: argparse.Namespace) -> int:
    text = _read(args.file)

    async def body(app: App) -> int:
        try:
            conv = await app.engine.conversations.import_json(text)
        except E.InvalidRequest as exc:
            source = "stdin" if args.file == "-" else args.file
            raise E.InvalidRequest(f"{source}: {exc.message}", hint=IMPORT_HINT) from None
        if args.json:
            dump_json(turns.conversation_json(conv))
        else:
            print(conv.id)
            print(f"imported {conv.title!r} ({conv.message_count} messages)", file=sys.stderr)
        return 0

    return await _store_verb(args, body)


async def cmd_delete(args: argparse.Namespace) -> int:
    async def body(app: App) -> int:
        conv = await turns.resolve(app.engine, args.id, deleted_ok=True)
        if args.purge:
            await app.engine.conversations.purge(conv.id)
        else:
            await app.engine.conversations.delete(conv.id)
        if args.json:
            dump_json({"id": conv.id, "title": conv.title, "deleted": True, "purged": args.purge})
        elif args.purge:
            print(f"purged {conv.id} {conv.title!r}: gone for good")
        else:
            print(f"deleted {conv.id} {conv.title!r} (`autodevai conversations restore {conv.id}` brings it back)")
        return 0

    return await _store_verb(args, body)


async def _change(args: argparse.Namespace, what: str, change: Any) -> int:
    """Apply ``change(engine, id)`` to the conversation ``args.id`` and print it as it is afterwards."""

    async def body(app: App) -> int:
        conv = await turns.resolve(app.engine, args.id, deleted_ok=True)
        await change(app, conv.id)
        after = await app.engine.conversations.get(conv.id)
        if args.json:
            dump_json(turns.conversation_json(after))
        else:
            print(f"{what} {after.id} {after.title!r}")
        return 0

    return await _store_verb(args, body)


async def cmd_restore(args: argparse.Namespace) -> int:
    return await _change(args, "restored", lambda app, cid: app.engine.conversations.restore(cid))


async def cmd_rename(args: argparse.Namespace) -> int:
    return await _change(args, "renamed", lambda app, cid: app.engine.conversations.rename(cid, args.title))


async def cmd_pin(args: argparse.Namespace) -> int:
    what = "pinned" if args.pinned else "unpinned"
    return await _change(args, what, lambda app, cid: app.engine.conversations.pin(cid, args.pinned))
