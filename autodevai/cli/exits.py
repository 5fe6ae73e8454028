"""The CLI's exit codes: one number per class of outcome, decided in one place (``exit_code``).

    0    ok
    1    a check failed: the self-test, a workflow step, a swarm without consensus (or whose ``--consensus`` rule
         its topology never applied), a ``--schema`` answer that is not valid JSON
    2    bad input or config: ``ConfigError``, ``InvalidRequest`` (and ``CapabilityMissing``), ``ContextTooLong``,
         ``BadRequest`` (the provider refused the parameters); argparse's own usage errors are 2 as well
    3    budget: ``BudgetExceeded``, or ``NoRouteAvailable`` when the budget refused every attempt
    4    provider: every other ``ProviderError``, ``CircuitOpen``, ``DeadlineExceeded``, ``NoRouteAvailable``
         (but 2 when the routing settings leave no model at all)
    5    storage: ``StorageError`` (the database could not be opened or written)
    130  cancelled: Ctrl+C (128 + SIGINT, as shells report it) or ``Cancelled``

``NoRouteAvailable`` lists its attempts; when every attempt failed for the same class of reason, the exit code is
that class's (a named model the budget refused exits 3, not 4). Decisions read the attempts' error class names,
never message text.
"""

from __future__ import annotations

from autodevai.engine import errors as E

__all__ = [
    "EXIT_BUDGET",
    "EXIT_CANCELLED",
    "EXIT_CODES_HELP",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_PROVIDER",
    "EXIT_STORAGE",
    "exit_code",
]

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BUDGET, EXIT_PROVIDER, EXIT_STORAGE, EXIT_CANCELLED = 0, 1, 2, 3, 4, 5, 130

EXIT_CODES_HELP = """exit codes:
  0    ok
  1    a check failed (self-test, workflow step, swarm without consensus, --schema answer not JSON)
  2    bad input or config (invalid option, file, setting, or a request no model can serve)
  3    budget: a cap refused the request
  4    provider: the model or server failed
  5    storage: the database could not be opened or written
  130  cancelled (Ctrl+C)"""

_INPUT: tuple[type[E.EngineError], ...] = (E.ConfigError, E.InvalidRequest, E.ContextTooLong, E.BadRequest)


def _class_code(cls: type[BaseException]) -> int:
    """The exit code of an error class (the same rule for a raised error and an attempt's outcome)."""
    if issubclass(cls, _INPUT):
        return EXIT_INPUT
    if issubclass(cls, E.BudgetExceeded):
        return EXIT_BUDGET
    if issubclass(cls, E.StorageError):
        return EXIT_STORAGE
    if issubclass(cls, E.Cancelled):
        return EXIT_CANCELLED
    return EXIT_PROVIDER


def _attempt_code(outcome: str) -> int:
    """An attempt's outcome is an error class name (``errors.error_class``) or a word such as "skipped"."""
    cls = getattr(E, outcome, None) if outcome in E.__all__ else None
    if isinstance(cls, type) and issubclass(cls, E.EngineError):
        return _class_code(cls)
    return EXIT_PROVIDER


def exit_code(exc: E.EngineError) -> int:
    """The exit code for an engine error that ended a verb (see the module docstring for the table)."""
    if isinstance(exc, E.NoRouteAvailable):
        if exc.cause == "settings":  # the routing settings leave no model: fix the config
            return EXIT_INPUT
        codes = {_attempt_code(a.outcome) for a in exc.attempts if a.outcome != "ok"}
        return codes.pop() if len(codes) == 1 else EXIT_PROVIDER
    return _class_code(type(exc))
