"""Turn engine values (dataclasses, pydantic models, enums) into plain JSON-able data for the CLI and the gateway."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """A JSON-serializable copy of ``value``: dataclasses and models become dicts, tuples lists, enums values."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in getattr(type(value), "__json_properties__", ()):
            out[name] = to_jsonable(getattr(value, name))
        return out
    if isinstance(value, Mapping):
        return {_key(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return str(value)


def _key(key: Any) -> str:
    """JSON object keys are strings: tuples such as (provider, model) become "provider:model"."""
    if isinstance(key, tuple):
        return ":".join(str(to_jsonable(k)) for k in key)
    return str(to_jsonable(key))
