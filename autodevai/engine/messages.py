"""The pieces of OpenAI's chat-completions API that a request carries: messages with text or content parts
(text, image, audio, file), tool calls and tool results, function tools, ``tool_choice``, ``response_format``
and ``reasoning``. pydantic models, validated once at the boundary (CLI, GUI, gateway, swarm agents).

Shapes follow OpenAI's API reference for ``POST /chat/completions`` and OpenRouter's additions (``file`` parts
with ``file_data``, ``cache_control`` on parts, ``reasoning`` with effort / max_tokens / exclude). Fields this
module does not name are kept on messages, parts and tools (``extra="allow"``) and sent upstream as they came,
so a newer API field never gets lost on the way through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autodevai.engine import constants as C

__all__ = [
    "AudioPart",
    "ChatMessage",
    "ContentPart",
    "FileData",
    "FilePart",
    "FunctionCall",
    "FunctionDef",
    "ImagePart",
    "ImageUrl",
    "InputAudio",
    "JsonSchemaSpec",
    "NamedFunction",
    "NamedToolChoice",
    "ReasoningConfig",
    "ResponseFormat",
    "Role",
    "TextPart",
    "Tool",
    "ToolCallIn",
    "ToolChoice",
    "media_chars",
    "media_tokens",
    "message_text",
]

Role = Literal["system", "user", "assistant", "tool"]

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class _Open(BaseModel):
    """Frozen, and keeps unknown fields (passed through to the upstream verbatim)."""

    model_config = ConfigDict(frozen=True, extra="allow")


class TextPart(_Open):
    type: Literal["text"] = "text"
    text: str
    cache_control: dict[str, Any] | None = None


class ImageUrl(_Open):
    url: Annotated[str, Field(min_length=1)]
    detail: Literal["auto", "low", "high"] | None = None

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str) -> str:
        if not url.startswith(("https://", "http://", "data:")):
            raise ValueError("an image URL must be https://, http:// or a data: URL (base64)")
        if url.startswith("data:") and ";base64," not in url[:200]:
            raise ValueError("a data: image URL must be base64 encoded (data:image/png;base64,...)")
        return url


class ImagePart(_Open):
    type: Literal["image_url"] = "image_url"
    image_url: ImageUrl
    cache_control: dict[str, Any] | None = None


class InputAudio(_Open):
    data: Annotated[str, Field(min_length=1)]  # base64
    format: Annotated[str, Field(min_length=1)]  # "wav", "mp3", ...


class AudioPart(_Open):
    type: Literal["input_audio"] = "input_audio"
    input_audio: InputAudio
    cache_control: dict[str, Any] | None = None


class FileData(_Open):
    filename: str | None = None
    file_data: str | None = None  # a data: URL (base64) or a URL, OpenRouter's shape
    file_id: str | None = None  # OpenAI's uploaded-file id

    @model_validator(mode="after")
    def _some_data(self) -> FileData:
        if not self.file_data and not self.file_id:
            raise ValueError("a file part needs 'file_data' (a data: URL) or 'file_id'")
        return self


class FilePart(_Open):
    type: Literal["file"] = "file"
    file: FileData
    cache_control: dict[str, Any] | None = None


ContentPart = Annotated[TextPart | ImagePart | AudioPart | FilePart, Field(discriminator="type")]


class FunctionCall(_Open):
    name: Annotated[str, Field(min_length=1)]
    arguments: str = ""  # JSON text, as the model wrote it (not necessarily valid JSON)


class ToolCallIn(_Open):
    """A tool call of an earlier assistant turn, sent back in the conversation."""

    id: Annotated[str, Field(min_length=1)]
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Open):
    """One chat message. ``content`` is a string, a tuple of parts, or None (an assistant turn that only
    called tools). ``text`` is its text whatever the shape."""

    role: Role
    content: str | tuple[ContentPart, ...] | None = ""
    name: str | None = None
    tool_calls: tuple[ToolCallIn, ...] | None = None  # assistant messages
    tool_call_id: str | None = None  # tool messages: the call this answers

    @model_validator(mode="after")
    def _role_rules(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs 'tool_call_id' (the id of the call it answers)")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry 'tool_calls'")
        if isinstance(self.content, tuple) and self.role in ("system", "tool", "assistant"):
            for part in self.content:
                if not isinstance(part, TextPart):
                    raise ValueError(f"{self.role} messages take text parts only, not {part.type!r}")
        return self

    @property
    def text(self) -> str:
        """The message's text: the string content, or its text parts joined by newlines."""
        return message_text(self.content)

    @property
    def has_media(self) -> bool:
        """True when the content has image, audio or file parts."""
        return isinstance(self.content, tuple) and any(not isinstance(p, TextPart) for p in self.content)

    def counted_text(self) -> str:
        """What a tokenizer should count for this message: its text plus its tool calls' names and arguments."""
        text = self.text
        if self.tool_calls:
            text += "".join(c.function.name + c.function.arguments for c in self.tool_calls)
        if self.tool_call_id:
            text += self.tool_call_id
        return text

    def with_text(self, text: str) -> ChatMessage:
        """A copy whose text is ``text``: string content is replaced; with parts, the text parts become one text
        part (at the first one's place) and every image, audio or file part stays."""
        if not isinstance(self.content, tuple):
            return self.model_copy(update={"content": text})
        parts: list[ContentPart] = []
        placed = False
        for part in self.content:
            if isinstance(part, TextPart):
                if not placed:
                    parts.append(part.model_copy(update={"text": text}))
                    placed = True
            else:
                parts.append(part)
        if not placed:
            parts.insert(0, TextPart(text=text))
        return self.model_copy(update={"content": tuple(parts)})


def message_text(content: str | tuple[ContentPart, ...] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(p.text for p in content if isinstance(p, TextPart))


def media_chars(messages: Iterable[ChatMessage]) -> int:
    """How many characters of image, audio and file data (URLs, base64) ``messages`` carry."""
    total = 0
    for message in messages:
        if isinstance(message.content, tuple):
            for part in message.content:
                if isinstance(part, ImagePart):
                    total += len(part.image_url.url)
                elif isinstance(part, AudioPart):
                    total += len(part.input_audio.data)
                elif isinstance(part, FilePart):
                    total += len(part.file.file_data or "")
    return total


def media_tokens(message: ChatMessage) -> int:
    """An estimate of the prompt tokens of a message's non-text parts (images by detail, audio and files by
    size). Providers bill their real numbers; this is for window checks and budget reservations."""
    if not isinstance(message.content, tuple):
        return 0
    total = 0
    for part in message.content:
        if isinstance(part, ImagePart):
            total += C.IMAGE_TOKENS_LOW if part.image_url.detail == "low" else C.IMAGE_TOKENS
        elif isinstance(part, AudioPart):
            total += min(C.MEDIA_TOKENS_MAX, len(part.input_audio.data) // C.AUDIO_BYTES_PER_TOKEN)
        elif isinstance(part, FilePart):
            size = len(part.file.file_data or "")
            total += max(C.FILE_TOKENS_MIN, min(C.MEDIA_TOKENS_MAX, size // C.FILE_BYTES_PER_TOKEN))
    return total


# ---- tools, tool choice, response format, reasoning ------------------------------------------------------


class FunctionDef(_Open):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None  # a JSON Schema object
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _FUNCTION_NAME.match(name):
            raise ValueError("a function name is 1-64 letters, digits, '_', '.' or '-'")
        return name


class Tool(_Open):
    """A tool the model may call. Function tools are checked; other tool types pass through as they came."""

    type: Annotated[str, Field(min_length=1)] = "function"
    function: FunctionDef | None = None

    @model_validator(mode="after")
    def _function_tool(self) -> Tool:
        if self.type == "function" and self.function is None:
            raise ValueError("a function tool needs a 'function' object with a 'name'")
        return self


class NamedFunction(_Open):
    name: Annotated[str, Field(min_length=1)]


class NamedToolChoice(_Open):
    type: Literal["function"] = "function"
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class JsonSchemaSpec(_Open):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class ResponseFormat(_Open):
    """``{"type": "text"}``, ``{"type": "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}``."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format of type 'json_schema' needs a 'json_schema' object")
        return self


class ReasoningConfig(_Open):
    """OpenRouter's unified ``reasoning`` object (OpenAI's ``reasoning_effort`` maps to ``effort``)."""

    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    max_tokens: Annotated[int, Field(ge=0)] | None = None
    exclude: bool | None = None
    enabled: bool | None = None

    @property
    def wanted(self) -> bool:
        """True when this asks the model to reason (not only to hide or switch it off)."""
        if self.enabled is False or self.effort == "none":
            return False
        return bool(self.enabled or self.effort or self.max_tokens)
