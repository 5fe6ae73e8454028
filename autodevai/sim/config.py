"""The simulator's configuration: one validated pydantic model, for the Python API and the command line."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from autodevai.sim.faults import FaultRule

__all__ = ["FREE_MODEL_RPM", "SimConfig"]

# Requests per minute OpenRouter allows on ``:free`` models, as its docs state
# (https://openrouter.ai/docs/guides/routing/model-variants/free). The simulator's own copy, not the client's
# setting: it serves what OpenRouter does, so a client that gets the limit wrong is caught by the tests.
FREE_MODEL_RPM = 20


class SimConfig(BaseModel):
    """How a simulator behaves.

    ``latency_scale`` multiplies every model's time to first token and generation time (0 = instant: tests and
    benchmarks). ``keys`` empty accepts any non-empty bearer token. ``credit_limit`` is USD per key (None =
    unlimited). ``models`` limits the catalog: the first N models (int) or the ids/globs listed.
    ``admin_token`` is what the ``/_sim/*`` routes require in ``X-Sim-Admin-Token`` (None: a random one per
    server, ``SimServer.admin_token``; the Python API needs none).
    """

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    latency_scale: Annotated[float, Field(ge=0.0)] = 1.0
    keys: set[str] = Field(default_factory=set)
    credit_limit: Annotated[float, Field(ge=0.0)] | None = None
    faults: list[FaultRule] = Field(default_factory=list)
    models: int | list[str] | None = None
    free_rpm: Annotated[int, Field(ge=1)] = FREE_MODEL_RPM
    keepalive_s: Annotated[float, Field(gt=0.0)] = 1.0  # ": OPENROUTER PROCESSING" interval while a stream waits
    admin_token: Annotated[str, Field(min_length=8)] | None = None
