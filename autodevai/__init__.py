"""AutoDevAI: use many AI models as one — routing, resilience, budgets, metrics, and a built-in simulator."""

__version__ = "0.1.0"
