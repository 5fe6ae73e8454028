"""Workflow files for the Workflows panel: a TOML or JSON ``WorkflowSpec`` read and validated, with a readable
error naming the file and the fields that are wrong; and the example shown before anything is loaded.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import ValidationError

from autodevai.engine.workflows import WorkflowSpec

__all__ = ["FILE_EXAMPLE", "WorkflowFileError", "load_workflow_file"]

FILE_EXAMPLE = """Or load a workflow file with your own steps, for example (TOML):

name = "release-notes"
task = "Summarise the changes since v1.2 for users"

[[steps]]
id = "draft"
prompt = "{task}"
preference = "cost"

[[steps]]
id = "polish"
prompt = "Improve this draft for clarity:\\n{steps.draft}"
preference = "quality"
"""


class WorkflowFileError(ValueError):
    """A workflow file that cannot be used; the message says where and why."""


def load_workflow_file(path: Path) -> WorkflowSpec:
    """Read and validate a TOML or JSON ``WorkflowSpec``; raise ``WorkflowFileError`` with a readable message."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise WorkflowFileError(f"{path.name}: choose a .toml or .json workflow file")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
        return WorkflowSpec.model_validate(data)
    except OSError as exc:
        raise WorkflowFileError(f"{path.name}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise WorkflowFileError(f"{path.name}: not UTF-8 text") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise WorkflowFileError(f"{path.name}: not valid {suffix[1:].upper()}: {exc}") from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors()[:3]:
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise WorkflowFileError(f"{path.name}: " + "; ".join(lines)) from None
