"""Which catalog models can serve a request, and OpenRouter's 404 for a request no model of the list can serve.

Owns: matching ``ChatOptions.needs`` against a model's ``supported_parameters`` and modalities, and the refusal
texts. OpenRouter answers a request that no endpoint of the model supports with HTTP 404 and
``{"error": {"code": 404, "message": "No endpoints found that support ..."}}``; with a ``models`` fallback list
the first model that can serve the request answers. The texts are OpenRouter's as its users have reported
them (GitHub issues quoting the response bodies):

- tools: "No endpoints found that support tool use. To learn more about provider routing, visit: ..."
  (evalstate/fast-agent#122, bobrware/bobrchat#60 for the newer link);
- image / audio / file parts: "No endpoints found that support image input" (HartsyAI/SwarmUI-MagicPromptExtension
  #50, NousResearch/hermes-agent#23411), "... audio input", "... file input";
- json_schema (or json_object) on a model without ``structured_outputs`` (``response_format``): "No endpoints
  found that can handle the requested parameters. To learn more about provider routing, visit: ..." (a real
  404 captured for a json_schema request to an endpoint without ``structured_outputs``);
- output ``modalities`` the model cannot write: "No endpoints found that support the requested output
  modalities: image, text".

Tools with ``tool_choice: "none"`` need no tool support (the model only answers), as the engine's
``capabilities.needs_of`` counts it.
"""

from __future__ import annotations

from collections.abc import Iterable

from autodevai.sim.catalog import SimModel

__all__ = ["refusal", "serves"]

_ROUTING = "To learn more about provider routing, visit: https://openrouter.ai/docs/guides/routing/provider-selection"
_PARAMETERS = f"No endpoints found that can handle the requested parameters. {_ROUTING}"
_MESSAGES = {
    "tools": f"No endpoints found that support tool use. {_ROUTING}",
    "image": "No endpoints found that support image input",
    "file": "No endpoints found that support file input",
    "audio": "No endpoints found that support audio input",
    "structured_outputs": _PARAMETERS,
    "response_format": _PARAMETERS,
}


def _has(model: SimModel, need: str) -> bool:
    if need in ("image", "file", "audio"):
        return need in model.inputs
    if need.endswith("_output"):
        return need.removesuffix("_output") in model.outputs
    return need in model.params


def serves(model: SimModel, needs: Iterable[str]) -> bool:
    """True when ``model`` supports every one of ``needs``."""
    return all(_has(model, need) for need in needs)


def refusal(model: SimModel, needs: Iterable[str], modalities: Iterable[str] = ()) -> str | None:
    """OpenRouter's 404 message for the first of ``needs`` that ``model`` lacks, or None when it serves them."""
    for need in needs:
        if not _has(model, need):
            if need.endswith("_output"):
                asked = ", ".join(modalities)
                return f"No endpoints found that support the requested output modalities: {asked}"
            return _MESSAGES[need]
    return None
