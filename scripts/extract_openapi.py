"""Extract the part of OpenAI's OpenAPI spec that the gateway's answers must match, as plain JSON Schema.

Reads OpenAI's spec (``openapi.json``, from github.com/openai/openai-openapi; a copy lives in
``../shared/data/openai-openapi/``), keeps the response schemas the gateway produces —
``CreateChatCompletionResponse``, ``CreateChatCompletionStreamResponse``, ``ListModelsResponse``, ``Model``,
``ErrorResponse`` — and every schema they reach through ``$ref``, and writes them to
``tests/data/openai_openapi_subset.json`` for ``tests/integration/test_gateway_openapi.py`` (CI runs on a clean
clone, where the full 3.4 MB spec is absent).

The spec marks nullability the OpenAPI 3.0 way (``nullable: true``) in places, which JSON Schema does not know;
each such schema is rewritten to ``{"anyOf": [<schema>, {"type": "null"}]}`` so ``jsonschema`` reads it as the
spec means it. Examples and ``x-oaiMeta`` blocks are dropped (documentation only); everything else is kept as is.

usage: python scripts/extract_openapi.py [--spec PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "data" / "openai-openapi" / "openapi.json"
DEFAULT_OUT = ROOT / "tests" / "data" / "openai_openapi_subset.json"
ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
)
_REF_PREFIX = "#/components/schemas/"
_DROPPED = frozenset({"x-oaiMeta", "example", "examples"})


def reachable(schemas: dict[str, Any], roots: tuple[str, ...]) -> list[str]:
    """The names of ``roots`` and of every schema they reach through ``$ref``, sorted."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise SystemExit(f"the spec has no schema {name!r}")
        seen.add(name)
        stack: list[Any] = [schemas[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    if not ref.startswith(_REF_PREFIX):
                        raise SystemExit(f"{name}: a $ref outside components/schemas: {ref}")
                    todo.append(ref[len(_REF_PREFIX) :])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return sorted(seen)


def to_json_schema(node: Any) -> Any:
    """``node`` with OpenAPI 3.0's ``nullable: true`` rewritten to JSON Schema, and examples dropped."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items() if key not in _DROPPED}
    if out.pop("nullable", False) is True:
        description = out.pop("description", None)
        out = {"anyOf": [out, {"type": "null"}]}
        if description is not None:
            out["description"] = description
    return out


def extract(spec: dict[str, Any], source: str) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    names = reachable(schemas, ROOTS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            f"Extracted from OpenAI's OpenAPI spec {spec.get('info', {}).get('version', '?')} ({source}) by "
            "scripts/extract_openapi.py: the schemas of the gateway's answers and every $ref they reach, with "
            "'nullable: true' rewritten to JSON Schema. Regenerate with that script; do not edit by hand."
        ),
        "roots": list(ROOTS),
        "components": {"schemas": {name: to_json_schema(schemas[name]) for name in names}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help=f"OpenAI's openapi.json ({DEFAULT_SPEC})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"where to write the subset ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if not args.spec.is_file():
        print(f"no spec at {args.spec}: pass --spec PATH (github.com/openai/openai-openapi)", file=sys.stderr)
        return 2
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    readme = args.spec.parent / "README.md"
    source = "github.com/openai/openai-openapi"
    if readme.is_file():
        first = readme.read_text(encoding="utf-8").strip().splitlines()[0]
        source = first.removeprefix("OpenAI OpenAPI specification, from the public repository ").rstrip(".")
    subset = extract(spec, source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(subset, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    count = len(subset["components"]["schemas"])
    print(f"wrote {count} schemas ({args.out.stat().st_size:,} bytes) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
