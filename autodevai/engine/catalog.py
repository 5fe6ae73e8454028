"""The engine-side model catalog: every model the configured providers serve, with prices and a quality
prior.

``Catalog`` indexes the models by (provider, id) and by id, answers filtered/sorted queries for the Models
panel and the CLI, suggests close ids for "did you mean", and (de)serializes models for the disk cache. It
fills each model's ``vendor`` from its id and its ``quality`` from ``quality.quality_prior`` when the
provider left the default, then applies the user's ``quality_overrides`` (keyed by model id, or by
``provider:id`` for one provider only).

Pure: no I/O. ``version`` changes on every ``replace`` (and differs between catalogs: it comes from one counter)
so routing and views know when to rebuild.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from autodevai.engine.quality import quality_prior
from autodevai.engine.types import ModelInfo, ModelRef

__all__ = ["SORT_KEYS", "Catalog"]

_DEFAULT_QUALITY: float = ModelInfo.model_fields["quality"].default
_VERSIONS = itertools.count(1)  # one counter for every catalog: a version never repeats

SORT_KEYS: dict[str, Callable[[ModelInfo], Any]] = {
    "id": lambda m: m.id,
    "name": lambda m: (m.name or m.id).lower(),
    "price_in": lambda m: m.price_in,
    "price_out": lambda m: m.price_out,
    "context": lambda m: m.context_length,
    "quality": lambda m: m.quality,
    "vendor": lambda m: m.vendor,
}


def _is_free(m: ModelInfo) -> bool:
    return m.id.endswith(":free") or (m.price_in == 0 and m.price_out == 0 and m.price_request == 0)


class Catalog:
    """Models by (provider, id): ``query`` to list, ``get`` / ``find`` to look up, ``suggest`` for typos."""

    def __init__(self, models: Iterable[ModelInfo] = (), quality_overrides: Mapping[str, float] | None = None) -> None:
        self._overrides: dict[str, float] = dict(quality_overrides or {})
        self._models: list[ModelInfo] = []
        self._by_ref: dict[ModelRef, ModelInfo] = {}
        self._by_id: dict[str, list[ModelInfo]] = {}
        self._vendors: list[str] = []
        self.version = next(_VERSIONS)
        self._load(models)

    # ---- building ----

    def _prepare(self, m: ModelInfo) -> ModelInfo:
        update: dict[str, Any] = {}
        if not m.vendor and "/" in m.id:
            update["vendor"] = m.id.split("/", 1)[0]
        quality = m.quality
        if quality == _DEFAULT_QUALITY:
            quality = quality_prior(m.id, m.price_out, m.context_length)
        override = self._overrides.get(f"{m.provider}:{m.id}", self._overrides.get(m.id))
        if override is not None:
            quality = float(override)
        if quality != m.quality:
            update["quality"] = quality
        return m.model_copy(update=update) if update else m

    def _load(self, models: Iterable[ModelInfo]) -> None:
        by_ref: dict[ModelRef, ModelInfo] = {}
        for raw in models:
            m = self._prepare(raw)
            by_ref[m.ref] = m  # a repeated (provider, id) keeps its first position and its last data
        self._models = list(by_ref.values())
        self._by_ref = by_ref
        self._by_id = {}
        for m in self._models:
            self._by_id.setdefault(m.id, []).append(m)
        self._vendors = sorted({m.vendor for m in self._models if m.vendor})

    def replace(self, models: Iterable[ModelInfo]) -> None:
        """Swap in a new model list (priors and overrides applied again) and bump ``version``."""
        self._load(models)
        self.version = next(_VERSIONS)

    # ---- lookups ----

    def __len__(self) -> int:
        return len(self._models)

    def all(self) -> list[ModelInfo]:
        """Every model, in insertion order (a new list)."""
        return list(self._models)

    def get(self, ref: ModelRef) -> ModelInfo | None:
        return self._by_ref.get(ref)

    def find(self, model_id: str, provider: str | None = None) -> ModelInfo | None:
        """The model ``model_id`` of ``provider`` (else of the first provider that serves it), or None."""
        if provider is not None:
            return self._by_ref.get(ModelRef(provider, model_id))
        found = self._by_id.get(model_id)
        return found[0] if found else None

    def providers(self) -> list[str]:
        """Providers that serve at least one model, in first-seen order."""
        return list(dict.fromkeys(m.provider for m in self._models))

    def vendors(self) -> list[str]:
        """Vendors (the part of the ids before "/"), sorted."""
        return list(self._vendors)

    def suggest(self, model_id: str, n: int = 3) -> list[str]:
        """Up to ``n`` catalog ids close to ``model_id`` (best first), for "did you mean" messages."""
        query = model_id.strip().lower()
        if not query or n <= 0:
            return []
        q_bare = query.rsplit("/", 1)[-1]
        matcher = difflib.SequenceMatcher()
        scored: list[tuple[float, str]] = []
        for mid in self._by_id:
            low = mid.lower()
            bare = low.rsplit("/", 1)[-1]
            matcher.set_seqs(query, low)
            score = matcher.ratio() if matcher.real_quick_ratio() >= 0.5 else 0.0
            matcher.set_seqs(q_bare, bare)
            if matcher.real_quick_ratio() >= 0.5 and matcher.quick_ratio() >= 0.5:
                score = max(score, matcher.ratio())
            if len(q_bare) >= 3 and q_bare in bare:
                score = max(score, 0.75 + 0.2 * len(q_bare) / len(bare))
            if score >= 0.6:
                scored.append((score, mid))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [mid for _, mid in scored[:n]]

    # ---- queries ----

    def query(
        self,
        *,
        text: str | None = None,
        vendor: str | None = None,
        provider: str | None = None,
        max_price_in: float | None = None,
        max_price_out: float | None = None,
        min_context: int | None = None,
        modality: str | None = None,
        free_only: bool = False,
        sort: str = "id",
        descending: bool = False,
        limit: int | None = None,
    ) -> list[ModelInfo]:
        """Models matching every given filter, sorted by ``sort`` (ties by id, then provider).

        ``text`` matches id, name or description, case-insensitive. ``modality`` matches an input or output
        modality ("image", "audio", ...). ``free_only`` keeps ``:free`` models and models with all prices 0.
        Raises ``ValueError`` for an unknown ``sort`` key, naming the valid ones.
        """
        key = SORT_KEYS.get(sort)
        if key is None:
            raise ValueError(f"unknown sort key {sort!r}; valid: {', '.join(SORT_KEYS)}")
        needle = text.strip().lower() if text else None
        vend = vendor.lower() if vendor else None
        out: list[ModelInfo] = []
        for m in self._models:
            if vend is not None and m.vendor.lower() != vend:
                continue
            if provider is not None and m.provider != provider:
                continue
            if max_price_in is not None and m.price_in > max_price_in:
                continue
            if max_price_out is not None and m.price_out > max_price_out:
                continue
            if min_context is not None and m.context_length < min_context:
                continue
            if modality is not None and modality not in m.input_modalities + m.output_modalities:
                continue
            if free_only and not _is_free(m):
                continue
            if needle and not (needle in m.id.lower() or needle in m.name.lower() or needle in m.description.lower()):
                continue
            out.append(m)
        out.sort(key=lambda m: (m.id, m.provider))
        out.sort(key=key, reverse=descending)  # stable: equal keys stay ordered by id
        return out[:limit] if limit is not None else out

    # ---- disk cache ----

    @staticmethod
    def to_dicts(models: Iterable[ModelInfo]) -> list[dict[str, Any]]:
        """JSON-ready rows for the disk cache."""
        return [m.model_dump(mode="json") for m in models]

    @staticmethod
    def from_dicts(rows: Iterable[Mapping[str, Any]]) -> list[ModelInfo]:
        """Models from cache rows; rows that no longer validate (an older format) are skipped."""
        out: list[ModelInfo] = []
        for row in rows:
            try:
                out.append(ModelInfo.model_validate(row))
            except ValueError:
                continue
        return out
