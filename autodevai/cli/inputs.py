"""Files named on the command line, turned into parts of a chat request: ``--image`` and ``--file`` attachments,
``--schema`` (structured output) and ``--tools`` (function tools).

Pure: read, check, encode. Every problem is an ``InvalidRequest`` whose message names the file and what is wrong,
so the CLI prints one line and exits 2, never a traceback.

Choices, in the shapes of OpenAI's chat-completions API and OpenRouter's ``file`` parts:
- an image is sent as it is (no re-encoding) as a base64 ``data:`` URL whose media type comes from its first bytes
  (PNG, JPEG, GIF, WEBP: what OpenAI, Anthropic and Gemini accept); an ``https://`` URL passes through unread;
- ``--file``: a PDF, or any other non-text document, becomes a ``file`` part (``filename`` + ``file_data`` as a
  data: URL); a UTF-8 text or code file is inlined as a text part wrapped in ``<file name="...">`` tags (every
  model reads text; few read ``file`` parts); an image given with ``--file`` is sent as an image;
- attachments over 20 MB are refused (OpenAI's per-image limit; OpenRouter's is similar);
- ``--schema``: a JSON Schema object; the response format is named after the file's stem, with ``strict: true``.
  A file already in OpenAI's shape (``{"name", "schema"}`` or ``{"type": "json_schema", "json_schema": ...}``)
  is taken as it is;
- ``--tools``: a JSON list of OpenAI function tools (``{"type": "function", "function": {...}}``) or of bare
  function objects (``{"name", "description", "parameters"}``); ``{"tools": [...]}`` and a single tool work too.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from autodevai.engine.errors import InvalidRequest
from autodevai.engine.messages import Tool

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "file_part",
    "image_part",
    "load_response_format",
    "load_tools",
    "sniff_image",
]

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def sniff_image(data: bytes) -> str | None:
    """The media type of an image from its first bytes (PNG, JPEG, GIF, WEBP), or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _read(arg: str, what: str) -> bytes:
    """The bytes of the file ``arg``; refuses a missing, unreadable, empty or too large file."""
    path = Path(arg)
    if not path.exists():
        raise InvalidRequest(f"{what} {arg}: no such file")
    if not path.is_file():
        raise InvalidRequest(f"{what} {arg}: not a file")
    size = path.stat().st_size
    if size > MAX_ATTACHMENT_BYTES:
        raise InvalidRequest(f"{what} {arg}: {_size(size)} is over the {_size(MAX_ATTACHMENT_BYTES)} limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidRequest(f"{what} {arg}: cannot read it ({exc.strerror or exc})") from None
    if not data:
        raise InvalidRequest(f"{what} {arg}: the file is empty")
    return data


def image_part(arg: str) -> dict[str, Any]:
    """An ``image_url`` part for ``--image``: a local PNG/JPEG/GIF/WEBP file as a data: URL, or an http(s) URL."""
    if arg.startswith(("https://", "http://")):
        return {"type": "image_url", "image_url": {"url": arg}}
    data = _read(arg, "image")
    media_type = sniff_image(data)
    if media_type is None:
        guessed = mimetypes.guess_type(arg)[0] or ""
        named = guessed.startswith("image/")
        why = f"its name says {guessed[6:].upper()} but its bytes are not a known image" if named else "not an image"
        raise InvalidRequest(f"image {arg}: {why} (--image takes PNG, JPEG, GIF or WEBP files)")
    return {"type": "image_url", "image_url": {"url": _data_url(media_type, data)}}


def _as_text(data: bytes) -> str | None:
    """The file's text when it is UTF-8 text (no NUL bytes), else None."""
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def file_part(arg: str) -> dict[str, Any]:
    """A part for ``--file``: inline text for text/code files, an image part for images, else a ``file`` part."""
    data = _read(arg, "file")
    name = Path(arg).name
    media_type = sniff_image(data)
    if media_type is not None:
        return {"type": "image_url", "image_url": {"url": _data_url(media_type, data)}}
    if data.startswith(b"%PDF-"):
        media_type = "application/pdf"
    else:
        text = _as_text(data)
        if text is not None:
            return {"type": "text", "text": f'<file name="{name}">\n{text.rstrip()}\n</file>'}
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {"type": "file", "file": {"filename": name, "file_data": _data_url(media_type, data)}}


def _read_json(arg: str, what: str) -> Any:
    data = _read(arg, what)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidRequest(f"{what} {arg}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise InvalidRequest(f"{what} {arg}: not valid JSON: {exc.msg} ({where})") from None


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def load_response_format(arg: str) -> dict[str, Any]:
    """``response_format`` for ``--schema FILE.json``: json_schema named after the file stem, strict."""
    data = _read_json(arg, "schema")
    if not isinstance(data, dict):
        raise InvalidRequest(f"schema {arg}: a JSON Schema must be an object, not {_kind(data)}")
    if data.get("type") == "json_schema" and isinstance(data.get("json_schema"), dict):
        spec = data["json_schema"]  # already a whole response_format
    elif isinstance(data.get("schema"), dict) and "name" in data and "properties" not in data:
        spec = data  # OpenAI's json_schema object: {"name", "schema", "strict"}
    else:
        name = _SCHEMA_NAME.sub("_", Path(arg).stem).strip("_")[:64] or "schema"
        spec = {"name": name, "schema": data, "strict": True}
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise InvalidRequest(f"schema {arg}: 'schema' must be an object, not {_kind(schema)}")
    if "type" in schema and not isinstance(schema["type"], str | list):
        raise InvalidRequest(f"schema {arg}: 'type' must be a string or a list of strings")
    return {"type": "json_schema", "json_schema": spec}


def _tool_name(item: dict[str, Any]) -> str:
    function = item.get("function")
    name = function.get("name") if isinstance(function, dict) else item.get("name")
    return name if isinstance(name, str) else ""


def load_tools(arg: str) -> list[dict[str, Any]]:
    """``tools`` for ``--tools FILE.json``, each checked; bare function objects are wrapped as function tools."""
    data = _read_json(arg, "tools")
    if isinstance(data, dict):
        data = data["tools"] if isinstance(data.get("tools"), list) else [data]
    if not isinstance(data, list) or not data:
        raise InvalidRequest(f"tools {arg}: expected a non-empty JSON list of tools, not {_kind(data)}")
    tools: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, item in enumerate(data, 1):
        where = f"tools {arg}: tool {n}"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{where} is {_kind(item)}, not an object")
        if "function" not in item and "type" not in item:
            item = {"type": "function", "function": item}  # a bare function object
        name = _tool_name(item)
        if item.get("type", "function") == "function" and not name:
            raise InvalidRequest(f"{where} has no 'name' (a function tool needs one)")
        parameters = item.get("function", {}).get("parameters") if isinstance(item.get("function"), dict) else None
        if parameters is not None and not isinstance(parameters, dict):
            raise InvalidRequest(f"{where} ({name}): 'parameters' must be a JSON Schema object")
        try:
            Tool.model_validate(item)
        except ValidationError as exc:
            msg = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
            raise InvalidRequest(f"{where}{f' ({name})' if name else ''}: {msg}") from None
        if name in seen:
            raise InvalidRequest(f"{where}: the name {name!r} is used twice")
        seen.add(name)
        tools.append(item)
    return tools
