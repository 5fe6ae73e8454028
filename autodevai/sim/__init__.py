"""The OpenRouter-compatible simulator: a real HTTP server with hundreds of models, deterministic answers, a
latency model and fault injection, for demos without a key and for every test.

Modules: ``catalog``/``catalog_data`` (models, prices, profiles, parameters, modalities), ``answers`` (what
models say), ``faults`` (fault rules), ``state`` (counters, credits, limits), ``chat`` (``/chat/completions``),
``options`` (the request's optional fields), ``capabilities`` (404 refusals and ``models`` fallback), ``reply``
(tool calls, JSON, reasoning, logprobs, images in whole and streamed form) with ``tools``, ``schema_gen`` and
``patterns`` (JSON Schema instances), ``media`` (images, files, audio), ``reasoning``, ``logprobs``, ``server``
(``SimServer`` and routes), ``thread`` (``SimThread``), ``__main__`` (command line). The HTTP/1.1 layer is the
shared ``autodevai.webserver`` (aiohttp underneath).
"""

from __future__ import annotations

from autodevai.sim.catalog import Profile, catalog_models, model_profile
from autodevai.sim.config import SimConfig
from autodevai.sim.faults import FaultKind, FaultRule, parse_fault_spec
from autodevai.sim.server import SimServer
from autodevai.sim.state import SimStats
from autodevai.sim.thread import SimThread

__all__ = [
    "FaultKind",
    "FaultRule",
    "Profile",
    "SimConfig",
    "SimServer",
    "SimStats",
    "SimThread",
    "catalog_models",
    "model_profile",
    "parse_fault_spec",
]
