"""Context compression: fit a conversation into a model's window while keeping what the question needs, measured.

``compress(messages, budget_tokens, counter=..., strategy=...)`` returns the fitted messages and a
``CompressionReport`` (tokens before/after, ratio, time, a quality score, previews of what was removed).

Modules: ``units`` (splitting messages into sentences / code blocks / JSON blocks; the minifier), ``bm25``
(Unicode-aware relevance), ``workspace`` (token counts of units, rendering a plan), ``strategies`` (truncate,
middle-out, extractive, dedupe), ``quality`` (the score and previews), ``pipeline`` (``compress`` and the report).
Pure engine code: no I/O.
"""

from autodevai.engine.compression.bm25 import relevance
from autodevai.engine.compression.pipeline import CompressionReport, compress
from autodevai.engine.compression.strategies import STRATEGIES, Strategy

__all__ = ["STRATEGIES", "CompressionReport", "Strategy", "compress", "relevance"]
