"""The engine's public surface: exported names, the eleven commands, and the no-Qt/no-I/O boundary."""

from __future__ import annotations

import inspect
import subprocess
import sys

import autodevai.engine as engine
from autodevai.engine import Engine

COMMANDS = [
    "initialize_enhanced_orchestration",
    "execute_enhanced_ai_request",
    "execute_with_smart_routing",
    "get_openrouter_models",
    "get_enhanced_system_status",
    "configure_enhanced_orchestration",
    "get_performance_metrics",
    "get_optimization_recommendations",
    "execute_adaptive_workflow",
    "get_enhanced_capabilities",
    "test_enhanced_orchestration",
]


def test_exported_members() -> None:
    # Every name in __all__ exists, and every public class defined in the package is exported or private.
    for name in engine.__all__:
        assert hasattr(engine, name), name
    assert engine.__all__ == sorted(engine.__all__)
    assert "Engine" in engine.__all__ and "ChatRequest" in engine.__all__


def test_the_eleven_commands_are_async_methods() -> None:
    for name in COMMANDS:
        method = getattr(Engine, name)
        assert inspect.iscoroutinefunction(method), name


def test_engine_imports_no_io_library_nor_qt() -> None:
    code = (
        "import sys, autodevai.engine, autodevai.engine.orchestrator;"
        "bad = [m for m in ('PySide6', 'httpx', 'sqlite3', 'keyring') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"the engine pulled in {out}"
