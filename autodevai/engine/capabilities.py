"""What a request needs from a model, and what a model can do, as bit sets routing compares in one operation.

A request needs (``needs_of``): ``tools`` when it gives tools (unless ``tool_choice`` is "none") or legacy
``functions``; structured
output for a ``json_schema`` response format, JSON mode for ``json_object``; image, audio or file input for such
content parts; ``reasoning`` when it asks the model to reason; image or audio output when ``modalities`` ask for
them.

A model can (``abilities_of``), from the catalog as OpenRouter states it (DESIGN.md "What real catalogs and
servers hold"): ``supported_parameters`` (``tools``, ``structured_outputs``, ``response_format``, ``reasoning``,
``include_reasoning``) and ``architecture.input_modalities`` / ``output_modalities``. What a server does not state
is not held against a model: an empty ``supported_parameters`` (plain OpenAI-compatible servers list none) allows
every parameter, and unknown modalities allow every input, so local servers are tried and refuse on their own.

Pure and cheap: ``needs_of`` reads a few fields and scans messages only for content parts.
"""

from __future__ import annotations

import enum

from autodevai.engine.types import ChatRequest, ModelInfo

__all__ = ["LABELS", "Need", "abilities_of", "describe", "needs_of"]


class Need(enum.IntFlag):
    NONE = 0
    TOOLS = enum.auto()
    STRUCTURED = enum.auto()
    JSON_MODE = enum.auto()
    REASONING = enum.auto()
    IMAGE_IN = enum.auto()
    AUDIO_IN = enum.auto()
    FILE_IN = enum.auto()
    IMAGE_OUT = enum.auto()
    AUDIO_OUT = enum.auto()


_PARAM_NEEDS = Need.TOOLS | Need.STRUCTURED | Need.JSON_MODE | Need.REASONING
_MEDIA_NEEDS = Need.IMAGE_IN | Need.AUDIO_IN | Need.FILE_IN | Need.IMAGE_OUT | Need.AUDIO_OUT

LABELS: dict[Need, str] = {
    Need.TOOLS: "tools",
    Need.STRUCTURED: "structured output (json_schema)",
    Need.JSON_MODE: "JSON mode",
    Need.REASONING: "reasoning",
    Need.IMAGE_IN: "image input",
    Need.AUDIO_IN: "audio input",
    Need.FILE_IN: "file input",
    Need.IMAGE_OUT: "image output",
    Need.AUDIO_OUT: "audio output",
}

_PART_NEEDS = {"image_url": Need.IMAGE_IN, "input_audio": Need.AUDIO_IN, "file": Need.FILE_IN}


def needs_of(request: ChatRequest) -> Need:
    """The capabilities a model must have to serve ``request``."""
    needs = Need.NONE
    if (request.tools and request.tool_choice != "none") or "functions" in request.extra_body:
        needs |= Need.TOOLS  # legacy `functions` travel verbatim in extra_body but need tools all the same
    fmt = request.response_format
    if fmt is not None:
        if fmt.type == "json_schema":
            needs |= Need.STRUCTURED
        elif fmt.type == "json_object":
            needs |= Need.JSON_MODE
    if request.reasoning is not None and request.reasoning.wanted:
        needs |= Need.REASONING
    if request.modalities:
        if "image" in request.modalities:
            needs |= Need.IMAGE_OUT
        if "audio" in request.modalities:
            needs |= Need.AUDIO_OUT
    for message in request.messages:
        if isinstance(message.content, tuple):
            for part in message.content:
                needs |= _PART_NEEDS.get(part.type, Need.NONE)
    return needs


def abilities_of(model: ModelInfo) -> Need:
    """What ``model`` can serve, per the catalog; whatever the catalog does not state counts as possible."""
    can = Need.NONE
    params = model.supported_parameters
    if not params:
        can |= _PARAM_NEEDS
    else:
        if "tools" in params:
            can |= Need.TOOLS
        if "structured_outputs" in params:
            can |= Need.STRUCTURED | Need.JSON_MODE
        if "response_format" in params:
            can |= Need.JSON_MODE
        if "reasoning" in params or "include_reasoning" in params:
            can |= Need.REASONING
    if not model.modalities_known:
        return can | _MEDIA_NEEDS
    inputs, outputs = model.input_modalities, model.output_modalities
    if "image" in inputs:
        can |= Need.IMAGE_IN
    if "audio" in inputs:
        can |= Need.AUDIO_IN
    if "file" in inputs:
        can |= Need.FILE_IN
    if "image" in outputs:
        can |= Need.IMAGE_OUT
    if "audio" in outputs:
        can |= Need.AUDIO_OUT
    return can


def describe(needs: Need) -> list[str]:
    """Readable names of the capabilities in ``needs``, in a fixed order."""
    return [label for flag, label in LABELS.items() if flag & needs]
