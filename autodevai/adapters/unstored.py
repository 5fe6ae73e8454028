"""Requests that were answered while the store could not write them (the disk was full, the file read-only).

The store keeps them in memory and retries them with every later write; what is still unwritten when the store
closes goes to a file beside the database (``<db>.unstored.jsonl``, readable by its owner only), which the next
open imports before anything else. So an answered request is never lost because the disk was full for a while.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from autodevai.engine.ports import RequestRecord

__all__ = ["SUFFIX", "load", "sidecar", "spill"]

SUFFIX = ".unstored.jsonl"


def sidecar(db: Path) -> Path:
    """The file that holds ``db``'s unstored requests."""
    return db.with_name(db.name + SUFFIX)


def _decode(line: str) -> RequestRecord:
    data = json.loads(line)
    data["attempts"] = tuple(data.get("attempts") or ())
    data["holds"] = tuple(data.get("holds") or ())
    return RequestRecord(**data)


def load(db: Path) -> list[RequestRecord]:
    """The requests in ``db``'s sidecar file (none when there is no file; lines that do not parse are skipped)."""
    path = sidecar(db)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError, TypeError):
            records.append(_decode(line))
    return records


def spill(db: Path, records: Iterable[RequestRecord]) -> None:
    """Replace ``db``'s sidecar file with ``records`` (atomically; removed when there are none). Raises
    ``OSError`` when it cannot be written."""
    path = sidecar(db)
    lines = [json.dumps(asdict(r), default=str, ensure_ascii=True) for r in records]
    if not lines:
        path.unlink(missing_ok=True)
        return
    fd, tmp = tempfile.mkstemp(prefix=".unstored-", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
