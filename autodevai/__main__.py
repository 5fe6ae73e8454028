"""`python -m autodevai` — the same as the `autodevai` command (the launcher, ``autodevai.launch``)."""

from autodevai.launch import main

raise SystemExit(main())
