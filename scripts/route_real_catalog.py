"""Top picks of every routing preference on a real OpenRouter ``/models`` dump (developer script).

    python scripts/route_real_catalog.py tests/data/openrouter/or_models_2026-08-19.json [--prompt N] [--max-tokens N]

Parses the dump with the provider's own parser, builds the engine's catalog and router with default settings
(``--no-free``: ``:free`` variants left out, the default; otherwise allowed, as a user who opts in sees it), and
prints the five candidates each preference picks for a plain text request, with the expected cost of each.
Used to compare routing before and after a change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autodevai.engine.catalog import Catalog
from autodevai.engine.routing import Router
from autodevai.engine.settings import RoutingSettings
from autodevai.engine.types import Preference
from autodevai.providers import models_wire


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path)
    ap.add_argument("--prompt", type=int, default=1000)
    ap.add_argument("--max-tokens", type=int, default=500)
    ap.add_argument("--no-free", action="store_true", help="leave :free variants out (the default setting)")
    args = ap.parse_args()
    models = models_wire.parse_models(json.loads(args.dump.read_text()), "openrouter")
    catalog = Catalog(models)
    settings = RoutingSettings.model_validate({"allow_free": not args.no_free, "fallbacks": 4})
    router = Router(catalog, settings)
    print(f"{len(models)} models parsed from {args.dump.name}")
    for pref in Preference:
        d = router.decide(preference=pref, prompt_tokens=args.prompt, max_tokens=args.max_tokens, now=0.0)
        print(f"\n{pref.value}:")
        for ref in d.candidates:
            info = catalog.get(ref)
            assert info is not None
            cost = info.worst_case_cost(args.prompt, args.max_tokens)
            print(f"  {ref.model:55} ${cost:.6f}  out={','.join(info.output_modalities)}")


if __name__ == "__main__":
    main()
