"""`python -m autodevai` — the same as the `autodevai` command."""

from autodevai.cli.main import main

raise SystemExit(main())
