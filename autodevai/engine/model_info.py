"""What the engine knows about one model: ``ModelInfo`` (a catalog entry: window, prices and their tiers,
modalities, parameters, quality prior), ``ModelRef`` (which provider serves which model id) and ``LiveStats``
(what routing has measured of it lately).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LiveStats", "ModelInfo", "ModelRef", "PriceTier"]


class PriceTier(BaseModel):
    """A price that applies from ``min_prompt_tokens`` prompt tokens on (OpenRouter's ``pricing.overrides``)."""

    model_config = ConfigDict(frozen=True)

    min_prompt_tokens: int = Field(ge=1)
    price_in: float = Field(ge=0, allow_inf_nan=False)
    price_out: float = Field(ge=0, allow_inf_nan=False)


class ModelInfo(BaseModel):
    """One model of the catalog. Prices are USD per token, as OpenRouter states them.

    What real catalogs hold beyond the numbers: ``context_known`` / ``price_known`` say whether the server stated a
    window and a price (unknown is not 4,096 tokens nor free); ``price_tiers`` are prices that apply above a prompt
    size; ``route_exclusion`` says why routing never picks this model on its own (a router priced -1, an alias, a
    ``:batch`` variant, not a chat model, billed per clip or image) — it stays listed and can be named explicitly.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    provider: str  # the configured provider that serves it ("openrouter", "sim", "local", ...)
    name: str = ""
    vendor: str = ""  # the part of the id before "/"
    description: str = ""
    context_length: int = Field(default=4096, ge=1)
    context_known: bool = True  # False: the server did not say; the prompt is sent as it is
    max_output: int | None = None
    price_in: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_out: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_request: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    price_known: bool = True  # False: no usable price was listed (never counted as free)
    price_tiers: tuple[PriceTier, ...] = ()  # ascending min_prompt_tokens
    route_exclusion: str = ""  # why routing does not pick it by itself ("" = it may)
    input_modalities: tuple[str, ...] = ("text",)
    output_modalities: tuple[str, ...] = ("text",)
    supported_parameters: tuple[str, ...] = ()  # empty: the server did not say (every parameter may work)
    modalities_known: bool = True  # False when the server did not list modalities (any input may work)
    quality: float = Field(default=0.5, ge=0, le=1)  # prior from public benchmarks, user-overridable
    moderated: bool = False
    created: int | None = None

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.provider, self.id)

    def prices_for(self, prompt_tokens: int) -> tuple[float, float]:
        """USD per input and output token for a prompt of this size (the highest tier it reaches)."""
        price_in, price_out = self.price_in, self.price_out
        for tier in self.price_tiers:
            if prompt_tokens >= tier.min_prompt_tokens:
                price_in, price_out = tier.price_in, tier.price_out
        return price_in, price_out

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD of a call with these token counts, at the tier its prompt reaches."""
        price_in, price_out = self.prices_for(prompt_tokens)
        return prompt_tokens * price_in + completion_tokens * price_out + self.price_request

    def worst_case_cost(self, prompt_tokens: int, max_tokens: int) -> float:
        """USD if the call uses all of ``max_tokens`` (what the budget reserves before sending)."""
        out = min(max_tokens, self.max_output) if self.max_output else max_tokens
        return self.cost(prompt_tokens, out)


@dataclass(frozen=True, slots=True, order=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(frozen=True, slots=True)
class LiveStats:
    """What routing learns from measured history for one model (over the metrics' 15-minute window)."""

    calls: int = 0
    p50_latency_s: float | None = None
    success_rate: float | None = None  # share of calls that ended "ok"
