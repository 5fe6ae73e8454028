"""Okapi BM25 relevance of text units to a query, with Unicode-aware terms.

Terms are lowercase ``\\w+`` runs (Python's ``\\w`` is Unicode: German, Russian, Greek, Arabic ... work as they
are). Chinese, Japanese and Korean write without spaces, so a ``\\w+`` run there is a whole clause; such runs become
overlapping character bigrams instead (the approach of Lucene's CJKAnalyzer), and a query in Japanese finds the
sentence that answers it.

The scoring is Robertson/Spärck Jones BM25 (k1 = 1.2, b = 0.75) with the classic idf
``log((N - n + 0.5) / (n + 0.5))`` clipped at 0: a term found in more than half of the units carries no weight,
so words like "the" or "is" never decide what is kept.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

__all__ = ["BM25", "K1", "B", "relevance", "terms"]

K1 = 1.2
B = 0.75

_WORD = re.compile(r"\w+")
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u31f0-\u31ff"
_CJK = re.compile(f"[{_CJK_CLASS}]")
_CJK_SPLIT = re.compile(f"[{_CJK_CLASS}]+|[^{_CJK_CLASS}]+")


def _cjk_terms(word: str) -> list[str]:
    out: list[str] = []
    for run in _CJK_SPLIT.findall(word):
        if _CJK.match(run) and len(run) > 1:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
        else:
            out.append(run)
    return out


def terms(text: str) -> list[str]:
    """The lowercase terms of ``text``: ``\\w+`` runs, with CJK runs turned into character bigrams."""
    words = _WORD.findall(text.lower())
    if not _CJK.search(text):
        return words
    out: list[str] = []
    for word in words:
        if _CJK.search(word):
            out.extend(_cjk_terms(word))
        else:
            out.append(word)
    return out


def _term_pattern(term: str) -> str:
    """A regex that finds ``term`` as ``terms`` would produce it from lowercased text. A word is matched whole:
    no non-CJK word character may touch it (the literal comes first so the regex engine can scan for it fast).
    A CJK bigram matches anywhere; a single CJK character only where no other CJK character touches it."""
    lit = re.escape(term)
    if _CJK.search(term):
        if len(term) > 1:
            return lit
        return f"{lit}(?<![{_CJK_CLASS}]{lit})(?![{_CJK_CLASS}])"
    word = f"[^\\W{_CJK_CLASS}]"
    return f"{lit}(?<!{word}{lit})(?!{word})"


class BM25:
    """BM25 scores of a fixed corpus of documents (here: units) against one query.

    Document length is measured in characters (BM25 only uses it relative to the average). Work is per query
    term over the whole lowercased corpus at once: one C-level pass counts the documents containing the term
    (its df); only terms with a positive idf (found in fewer than half of the documents) are then located, so the
    cost grows with the rare matches, not with every "the" of a 128K-token conversation."""

    def __init__(self, docs: Sequence[str], query: str) -> None:
        self.query_terms: tuple[str, ...] = tuple(dict.fromkeys(terms(query)))
        n = self._n_docs = len(docs)
        self._lengths = [len(d) for d in docs]
        self._avgdl = (sum(self._lengths) / n) if n else 0.0
        self.idf: dict[str, float] = {}
        self._hits: dict[int, dict[str, int]] = {}
        if not self.query_terms or not n:
            self.idf = dict.fromkeys(self.query_terms, 0.0)
            return
        lowered = [d.lower() for d in docs]
        # Documents never contain the separator: \x00 is no word character and no CJK character.
        joined = "\x00".join(d.replace("\x00", " ") for d in lowered)
        starts = [0, *accumulate(len(d) + 1 for d in lowered[:-1])]
        for term in self.query_terms:
            pattern = _term_pattern(term)
            df = len(re.findall(f"{pattern}()[^\x00]*", joined))  # one match per document that has the term
            idf = self.idf[term] = self._idf(df)
            if idf <= 0.0:
                continue
            for m in re.finditer(pattern, joined):
                tf = self._hits.setdefault(bisect_right(starts, m.start()) - 1, {})
                tf[term] = tf.get(term, 0) + 1

    def _idf(self, n: int) -> float:
        return max(0.0, math.log((self._n_docs - n + 0.5) / (n + 0.5)))

    def scores(self) -> list[float]:
        """One score (>= 0) per document, in corpus order; 0 for documents without a weighted query term."""
        out = [0.0] * self._n_docs
        idf, avgdl, lengths = self.idf, self._avgdl, self._lengths
        for i, tf in self._hits.items():
            norm = K1 * (1.0 - B + B * lengths[i] / avgdl) if avgdl > 0 else K1
            out[i] = sum(idf[t] * f * (K1 + 1.0) / (f + norm) for t, f in tf.items())
        return out


def relevance(query: str, text: str) -> float:
    """The share (0..1) of the query's distinct terms that occur in ``text``: a corpus-free, order-free measure
    (1.0 when ``text`` mentions every term of the query, 0.0 when none or when the query has no terms)."""
    wanted = set(terms(query))
    if not wanted:
        return 0.0
    return len(wanted.intersection(terms(text))) / len(wanted)
