"""A chat request from what a person types: a prompt, an optional system prompt, attached content parts
and request options. One builder for every face that takes a prompt (the CLI's ``run``/``route``, the GUI's
Execute panel, the tray's quick prompt), so they turn the same input into the same ``ChatRequest``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from autodevai.engine.types import ChatRequest, Preference

__all__ = ["build_request", "user_content"]


def user_content(prompt: str, parts: Sequence[Mapping[str, Any]] = ()) -> str | list[dict[str, Any]]:
    """The user turn's content: the prompt alone, or (with ``parts``: images, files) a text part — left out when
    the prompt is blank — followed by the parts, as OpenAI's multimodal content list."""
    if not parts:
        return prompt
    text: list[dict[str, Any]] = [{"type": "text", "text": prompt}] if prompt.strip() else []
    return text + [dict(p) for p in parts]


def build_request(
    prompt: str,
    *,
    system: str | None = None,
    model: str | None = None,
    preference: Preference | str | None = None,
    max_tokens: int | None = None,
    parts: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> ChatRequest:
    """A one-turn ``ChatRequest``: ``system`` (when not empty) then the user's ``prompt`` with ``parts``.

    ``model``, ``preference`` and ``max_tokens`` left as None take the request's defaults; so does any other
    ``ChatRequest`` field in ``fields`` given as None (``temperature=None`` means "not set"). Raises pydantic's
    ``ValidationError`` for invalid input (an empty prompt, an out-of-range value): each face says it its way.
    """
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user_content(prompt, parts)})
    options: dict[str, Any] = {"max_tokens": max_tokens, "model": model, "preference": preference, **fields}
    data: dict[str, Any] = {"messages": messages}
    data.update({name: value for name, value in options.items() if value is not None})
    return ChatRequest.model_validate(data)
