"""Conversations from the command line, as a user and a script meet them: `run -c`/`--conversation`/
`--new-conversation` keep a thread across processes, `autodevai chat` driven through a pipe (history, /compare and
/pick, /regen, /export, /new, mistakes reported while the chat goes on), and `autodevai conversations` (list, show,
search, export/import, delete/restore/purge, rename, pin) — which never starts the simulator. Real processes
against the auto-started simulator; each test has its own data dir."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from autodevai.cli.turns import resolve
from autodevai.engine import errors as E
from tests.integration.conftest import MakeEngine
from tests.integration.test_cli import cli
from tests.integration.test_cli_consistency import NO_SIMULATOR, SIMULATOR_BANNER

SMART = "openai/gpt-4o"  # the simulator's arithmetic is reliable on this one


def ok(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    result = cli(*args, **kw)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def as_json(*args: str, **kw: Any) -> Any:
    return json.loads(ok(*args, "--json", **kw).stdout)


def chat(*lines: str, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`autodevai chat ARGS` with ``lines`` piped to it, one per line (the end of the pipe ends the chat)."""
    return cli("chat", *args, stdin="".join(line + "\n" for line in lines))


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def listing(*extra: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = as_json("conversations", "list", *extra)
    return result


def thread(conversation_id: str) -> dict[str, Any]:
    result: dict[str, Any] = as_json("conversations", "show", conversation_id)
    return result


# ---- run in a conversation -------------------------------------------------------------------------------------


def test_run_continue_makes_the_prompt_the_next_turn() -> None:
    first = as_json("run", "--new-conversation", "What is 12*12?", "-m", SMART)
    assert "144" in first["content"]
    cid, answer_id = first["conversation_id"], first["message_id"]
    follow = ok("run", "-c", "multiply that by 2", "-m", SMART)
    assert "288" in follow.stdout  # the follow-up saw the earlier answer
    assert f"conversation {cid}" in follow.stderr
    third = as_json("run", "--conversation", cid[:6], "What is 3*3?", "-m", SMART)  # a unique prefix names it
    assert third["conversation_id"] == cid and third["message_id"] != answer_id and "9" in third["content"]
    shown = thread(cid)
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"] * 3
    assert shown["messages"][1]["id"] == answer_id and shown["messages"][1]["model"] == SMART
    assert shown["conversation"]["title"] == "What is 12*12?" and shown["conversation"]["messages"] == 6
    one_off = ok("run", "multiply that by 2", "-m", SMART)  # without -c, run stays one-off
    assert "288" not in one_off.stdout and "conversation" not in one_off.stderr
    assert len(listing()) == 1


def test_run_stream_json_in_a_conversation_ends_with_its_ids() -> None:
    cid = as_json("run", "--new-conversation", "What is 12*12?", "-m", SMART, "--system", "Be brief.")[
        "conversation_id"
    ]
    streamed = ok("run", "-c", "multiply that by 2", "-m", SMART, "--stream", "--json")
    lines = records(streamed.stdout)
    assert lines[-1]["type"] == "response" and lines[-1]["conversation_id"] == cid
    assert "288" in "".join(e["text"] for e in lines if e["type"] == "delta")
    assert thread(cid)["conversation"]["preset"] == {"system": "Be brief."}  # --system started the conversation


def test_run_new_conversation_says_how_to_continue_it() -> None:
    result = ok("run", "--new-conversation", "What is 2+2?")
    cid = listing()[0]["id"]
    assert f"conversation {cid} (new)" in result.stderr and "run -c" in result.stderr
    assert result.stdout.strip().endswith("4.")  # the answer alone on stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "-c", "hello"], "no conversation to continue"),
        (["run", "--conversation", "nope", "hello"], "no conversation 'nope'"),
        (["run", "-c", "--new-conversation", "hello"], "not allowed with"),
    ],
)
def test_run_with_no_such_conversation_exits_2(args: list[str], needle: str) -> None:
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr


# ---- chat through a pipe ----------------------------------------------------------------------------------------


def test_chat_keeps_the_history_between_turns() -> None:
    result = chat("What is 12*12?", "multiply that by 2", "/quit", "What is 5*5?", args=("-m", SMART))
    assert result.returncode == 0, result.stderr
    assert "144" in result.stdout and "288" in result.stdout
    assert "25" not in result.stdout  # nothing after /quit is read
    assert f"[{SMART} (simulated) · " in result.stderr  # a footer per answer
    (conv,) = listing()
    assert conv["messages"] == 4 and conv["preset"]["model"] == SMART  # the model is the conversation's setting


def test_chat_continue_resumes_the_most_recent_conversation() -> None:
    ok("run", "--new-conversation", "What is 12*12?", "-m", SMART)
    result = chat("multiply that by 2", args=("-c", "-m", SMART))  # the end of the pipe ends the chat
    assert result.returncode == 0, result.stderr
    assert "288" in result.stdout and "resuming 'What is 12*12?'" in result.stderr
    assert [c["messages"] for c in listing()] == [4]


def test_chat_compare_then_pick_continues_with_the_picked_answer() -> None:
    result = chat("/compare openai/gpt-4o cheapest", "What is 17*23?", "/pick 2", "/quit", args=("-m", SMART))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"[1] {SMART} · $" in out and "[2] cheapest → " in out  # model, cost, latency per answer
    assert out.count("391") == 2 and " ms\n" in out
    assert "/pick 1 or 2" in result.stderr
    (conv,) = listing()
    shown = thread(conv["id"])
    last = shown["messages"][-1]
    assert last["model"] != SMART and last["branch"][1] == 2  # the cheapest answer, one of two branches
    assert conv["preset"]["model"] == SMART  # the pin is back after the comparison


def test_chat_compare_with_text_now_in_json_lines() -> None:
    result = chat("/compare openai/gpt-4o openai/gpt-4o-mini -- What is 17*23?", "/pick 1", args=("--json",))
    assert result.returncode == 0, result.stderr
    events = records(result.stdout)
    compared = sorted((e for e in events if e["type"] == "compare"), key=lambda e: e["index"])
    assert [e["model"] for e in compared] == [SMART, "openai/gpt-4o-mini"]
    assert all("391" in e["content"] and e["cost_usd"] > 0 and e["latency_ms"] > 0 for e in compared)
    (picked,) = [e for e in events if e["type"] == "pick"]
    assert picked["message_id"] == compared[0]["message_id"]
    assert thread(picked["conversation_id"])["messages"][-1]["id"] == picked["message_id"]


def test_chat_export_json_is_read_back_by_import_and_new_starts_another(tmp_path: Path) -> None:
    export = tmp_path / "thread.json"
    result = chat(
        "What is 12*12?", "multiply that by 2", f"/export json {export}", "/new", "What is 2+2?", args=("-m", SMART)
    )
    assert result.returncode == 0, result.stderr
    assert f"wrote {export}" in result.stderr and "new conversation" in result.stderr
    titles = {c["title"]: c for c in listing()}
    assert set(titles) == {"What is 12*12?", "What is 2+2?"} and titles["What is 2+2?"]["messages"] == 2
    imported = as_json("conversations", "import", str(export))
    assert imported["messages"] == 4 and imported["id"] not in {c["id"] for c in titles.values()}
    original, copy = thread(titles["What is 12*12?"]["id"]), thread(imported["id"])
    assert [(m["role"], m["text"]) for m in copy["messages"]] == [(m["role"], m["text"]) for m in original["messages"]]
    assert "288" in copy["messages"][-1]["text"]
    plain = ok("conversations", "import", str(export))  # without --json: the id alone on stdout
    assert len(plain.stdout.strip()) == 16 and "imported 'What is 12*12?' (4 messages)" in plain.stderr


def test_chat_regen_history_and_a_continued_line() -> None:
    result = chat("What is\\", "7*8?", "/regen openai/gpt-4o-mini", "/history", args=("-m", SMART))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("56") >= 2 + 1  # the answer, the regenerated one, and /history
    assert "you:\n  What is\n  7*8?" in result.stdout  # a line ending with a backslash continues
    assert "assistant · openai/gpt-4o-mini · $" in result.stdout and "branch 2/2" in result.stdout


def test_chat_mistakes_are_reported_and_the_chat_goes_on() -> None:
    result = chat("/pick 1", "/mdoel x", "/compare onlyone", "/export", "/model gpt-4o-minii", "What is 2+2?")
    assert "nothing to pick" in result.stderr and "did you mean '/model'" in result.stderr
    assert "2 to 4 models" in result.stderr and "nothing to export" in result.stderr
    assert "unknown model 'gpt-4o-minii'" in result.stderr and "did you mean" in result.stderr
    assert "4" in result.stdout  # the message after the mistakes was answered
    assert result.returncode == 2  # the exit code of the last failure, so a script notices
    assert "Traceback" not in result.stderr


def test_chat_refuses_a_message_while_a_pick_is_pending() -> None:
    result = chat("/compare openai/gpt-4o cheapest -- What is 6*7?", "next question", "/pick 1", "What is 1+1?")
    assert "pick an answer first" in result.stderr and result.returncode == 2
    (conv,) = listing()
    asked = [m["text"] for m in thread(conv["id"])["messages"] if m["role"] == "user"]
    assert asked == ["What is 6*7?", "What is 1+1?"]  # the refused message was not sent


def test_chat_with_an_unknown_conversation_exits_2() -> None:
    result = chat("hello", args=("--conversation", "nope"))
    assert result.returncode == 2 and "no conversation 'nope'" in result.stderr


# ---- conversations ---------------------------------------------------------------------------------------------


def test_search_finds_an_old_message_and_delete_hides_it_until_restored() -> None:
    old = as_json("run", "--new-conversation", "Remember the word zanzibar for later, please.")["conversation_id"]
    ok("run", "--new-conversation", "What is the capital of France?")
    hits = as_json("conversations", "search", "zanzib")
    assert [h["conversation_id"] for h in hits] == [old] and "[zanzibar]" in hits[0]["snippet"]
    table = ok("conversations", "search", "zanzibar").stdout
    assert old in table and "[zanzibar]" in table
    ok("conversations", "delete", old)
    assert old not in {c["id"] for c in listing()} and old not in ok("conversations", "list").stdout
    assert as_json("conversations", "search", "zanzibar") == []
    assert [c["id"] for c in listing("--deleted")] == [old]
    restored = as_json("conversations", "restore", old)
    assert restored["deleted"] is False and old in {c["id"] for c in listing()}
    assert len(as_json("conversations", "search", "zanzibar")) == 1
    ok("conversations", "delete", old, "--purge")
    gone = cli("conversations", "show", old)
    assert gone.returncode == 2 and "no conversation" in gone.stderr


def test_list_show_export_rename_and_pin() -> None:
    cid = as_json("run", "--new-conversation", "What is 12*12?", "-m", SMART)["conversation_id"]
    newer = as_json("run", "--new-conversation", "What is 2+2?")["conversation_id"]
    table = ok("conversations", "list").stdout
    for column in ("id", "title", "messages", "cost", "updated", "pinned"):
        assert column in table.splitlines()[0]
    assert table.index(newer) < table.index(cid)  # the most recent first
    ok("conversations", "pin", cid)
    ok("conversations", "rename", cid, "Squares")
    first = listing()[0]
    assert first["id"] == cid and first["pinned"] and first["title"] == "Squares"  # pinned first
    shown = ok("conversations", "show", cid).stdout
    assert "Squares" in shown and "you:\n  What is 12*12?" in shown and f"assistant · {SMART} · $" in shown
    markdown = ok("conversations", "export", cid).stdout
    assert markdown.startswith("# Squares") and f"## Assistant · {SMART}" in markdown
    assert json.loads(ok("conversations", "export", cid, "--format", "json").stdout)["title"] == "Squares"
    assert as_json("conversations", "export", cid)["messages"][0]["content"] == "What is 12*12?"
    assert not as_json("conversations", "unpin", cid)["pinned"]


def test_conversation_verbs_start_no_simulator(tmp_path: Path) -> None:
    cid = as_json("run", "--new-conversation", "What is 12*12?")["conversation_id"]
    export = tmp_path / "c.json"
    for argv in (
        ["conversations"],
        ["conversations", "list"],
        ["conversations", "list", "--json"],
        ["conversations", "show", cid],
        ["conversations", "search", "12"],
        ["conversations", "export", cid, "-o", str(export)],
        ["conversations", "import", str(export)],
        ["conversations", "rename", cid, "Renamed"],
        ["conversations", "pin", cid],
        ["conversations", "unpin", cid],
        ["conversations", "delete", cid],
        ["conversations", "restore", cid],
        ["conversations", "--help"],
    ):
        result = cli(*argv, env=NO_SIMULATOR)
        assert result.returncode == 0, (argv, result.stderr)
        assert SIMULATOR_BANNER not in result.stderr
    assert cli("chat", env=NO_SIMULATOR, stdin="").returncode != 0  # chat talks to a model: it does start one


@pytest.mark.parametrize(
    ("argv", "stdin", "needle"),
    [
        (["conversations", "show", "nope"], None, "no conversation 'nope'"),
        (["conversations", "export", "nope"], None, "no conversation 'nope'"),
        (["conversations", "delete", "nope"], None, "no conversation 'nope'"),
        (["conversations", "restore", "nope"], None, "no conversation 'nope'"),
        (["conversations", "rename", "nope", "x"], None, "no conversation 'nope'"),
        (["conversations", "pin", "nope"], None, "no conversation 'nope'"),
        (["conversations", "import", "missing.json"], None, "missing.json: no such file"),
        (["conversations", "import", "-"], "{", "stdin: the file is not JSON"),
        (["conversations", "import", "-"], '{"messages": []}', "not a conversation export"),
        (["conversations", "import", "-"], '[{"role": "wizard", "content": "x"}]', "role"),
        (["conversations", "search", "x", "--limit", "0"], None, "--limit"),
        (["conversations", "frobnicate"], None, "invalid choice"),
    ],
)
def test_bad_ids_and_files_exit_2(argv: list[str], stdin: str | None, needle: str) -> None:
    result = cli(*argv, env=NO_SIMULATOR, stdin=stdin)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert SIMULATOR_BANNER not in result.stderr


def test_export_to_a_file_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    cid = as_json("run", "--new-conversation", "hello")["conversation_id"]
    result = cli("conversations", "export", cid, "-o", str(tmp_path / "no" / "such" / "dir.md"))
    assert result.returncode == 2 and "cannot write it" in result.stderr
    written = tmp_path / "out.json"
    record = as_json("conversations", "export", cid, "-o", str(written))  # the suffix picks the format
    assert record["format"] == "json" and json.loads(written.read_text())["messages"][0]["content"] == "hello"


async def test_a_shared_prefix_is_refused_naming_the_conversations(make_engine: MakeEngine) -> None:
    app = await make_engine()
    ids = sorted([(await app.engine.conversations.create()).id for _ in range(17)])  # two share a first hex digit
    a, b = next((a, b) for a, b in itertools.pairwise(ids) if a[0] == b[0])
    prefix = a[: next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)]  # what the two share
    group = [i for i in ids if i.startswith(prefix)]
    with pytest.raises(E.InvalidRequest, match=f"names {len(group)} conversations") as caught:
        await resolve(app.engine, prefix)
    assert all(i in str(caught.value) for i in group[:5]) and "give more of the id" in str(caught.value)
    assert (await resolve(app.engine, b)).id == b
    await app.engine.conversations.delete(b)
    with pytest.raises(E.InvalidRequest, match="is deleted"):
        await resolve(app.engine, b)
    assert (await resolve(app.engine, b, deleted_ok=True)).deleted


def test_help_lists_the_conversation_verbs_and_options() -> None:
    top = ok("--help").stdout
    assert "chat" in top and "conversations" in top and "run -c" in top
    run = ok("run", "--help").stdout
    for option in ("--continue", "--conversation ID", "--new-conversation"):
        assert option in run
    chat_help = ok("chat", "--help").stdout
    for command in ("/compare", "/pick", "/regen", "/export", "/history", "/new", "/quit", "--continue"):
        assert command in chat_help
    conv_help = ok("conversations", "--help").stdout
    for action in ("list", "show", "search", "export", "import", "delete", "restore", "rename", "pin"):
        assert action in conv_help
