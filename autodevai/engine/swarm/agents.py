"""Swarm agents: who they are (name, role, model, system prompt) and how one of them is asked something.

An ``Ask`` is the one way a topology talks to a model: ``(agent, prompt, round) -> AgentReply``. It never raises
an ``EngineError`` — a failed or timed-out call becomes ``AgentReply.error`` — so one agent's failure is data for
the protocol (an absent vote, a leader to replace) rather than an exception that ends the swarm. Cancellation
(``CancelledError``) always propagates. ``engine_ask`` builds the production ``Ask`` over the engine's request
path; ``call_agent`` is the guard every topology uses around any ``Ask`` (per-call timeout, and a crash of a
custom ``Ask`` turned into an error reply).

Agents may be given tools (OpenAI function tools): their requests then route only to tool-capable models. With a
``ToolRunner`` the agent loop runs the calls a model makes and sends the results back (at most
``MAX_TOOL_ROUNDS`` rounds); without one, an answer that only calls tools reads as the calls it made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from autodevai.engine.errors import EngineError, error_class
from autodevai.engine.types import ChatRequest, EngineResponse, Preference

__all__ = [
    "MAX_TOOL_ROUNDS",
    "SWARM_TASK_CLASS",
    "TIMEOUT_ERROR",
    "Agent",
    "AgentReply",
    "Ask",
    "Execute",
    "ToolRunner",
    "call_agent",
    "engine_ask",
    "system_prompt",
]

TIMEOUT_ERROR = "timeout"  # AgentReply.error of a call that ran past its timeout
SWARM_TASK_CLASS = "swarm"
MAX_TOOL_ROUNDS = 4  # model -> tool results -> model ... at most this many model calls per ask


@dataclass(frozen=True, slots=True)
class Agent:
    name: str  # unique in a swarm, e.g. "coordinator", "worker-1"
    role: str  # human description; also part of the system prompt
    system: str = ""  # system prompt; "" = built from name and role (see ``system_prompt``)
    model: str | None = None  # explicit model id, or None = routed with ``preference``
    preference: Preference = Preference.BALANCED
    max_tokens: int = 256
    extra_headers: tuple[tuple[str, str], ...] = ()  # passed to the provider (tests/bench use X-Sim-Fault)
    tools: tuple[Mapping[str, Any], ...] = ()  # OpenAI function tools the agent may call


@dataclass(frozen=True, slots=True)
class AgentReply:
    agent: str
    round: int
    content: str
    model: str
    cost_usd: float
    latency_ms: float
    error: str | None = None  # set when the agent failed or timed out (content is then "")

    @property
    def ok(self) -> bool:
        return self.error is None


Ask = Callable[[Agent, str, int], Awaitable[AgentReply]]
Execute = Callable[[ChatRequest, Preference], Awaitable[EngineResponse]]
ToolRunner = Callable[[str, str], Awaitable[str]]  # (tool name, arguments JSON) -> the result text for the model


def system_prompt(agent: Agent) -> str:
    """The agent's system prompt: its own, or one built from its name and role (so each agent is distinct)."""
    if agent.system:
        return agent.system
    return (
        f"You are {agent.name}, {agent.role}, one member of a team of AI agents. "
        "Answer concisely and end with the final answer."
    )


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _failed(agent: Agent, round: int, error: str, started: float) -> AgentReply:
    return AgentReply(agent.name, round, "", agent.model or "", 0.0, (_loop_time() - started) * 1000.0, error)


def _describe(exc: Exception) -> str:
    """One line naming the error class and what happened (a ``NoRouteAvailable`` keeps its attempts)."""
    text = exc.message if isinstance(exc, EngineError) else str(exc)
    detail = "; ".join(line.strip() for line in text.splitlines() if line.strip())
    return f"{error_class(exc)}: {detail}" if detail else error_class(exc)


def _calls_text(response: EngineResponse) -> str:
    return "; ".join(f"called {c.name}({c.arguments})" for c in response.tool_calls)


def engine_ask(execute: Execute, timeout_s: float | None = None, run_tool: ToolRunner | None = None) -> Ask:
    """An ``Ask`` over the engine's request path (``engine.executor.execute``): routing, budgets, breakers,
    metrics and the store all apply. The request has the agent's system prompt and the prompt as user message,
    the agent's model, max_tokens, extra headers and tools, and task class "swarm". ``timeout_s`` bounds each
    ask (tool rounds included); past it the call is cancelled and answers ``error="timeout"``. ``run_tool`` runs
    the tool calls a model makes (see the module docstring)."""

    async def ask(agent: Agent, prompt: str, round: int) -> AgentReply:
        started = _loop_time()
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system_prompt(agent)},
            {"role": "user", "content": prompt},
        ]
        cost = 0.0
        try:
            async with asyncio.timeout(timeout_s):
                for _ in range(MAX_TOOL_ROUNDS):
                    request = ChatRequest.model_validate(
                        {
                            "messages": messages,
                            "model": agent.model,
                            "max_tokens": agent.max_tokens,
                            "extra_headers": dict(agent.extra_headers),
                            "task_class": SWARM_TASK_CLASS,
                            "tools": list(agent.tools) or None,
                        }
                    )
                    response = await execute(request, agent.preference)
                    cost += response.cost_usd
                    if not response.tool_calls or run_tool is None:
                        break
                    messages.append(
                        {"role": "assistant", "content": response.content or None,
                         "tool_calls": [c.as_json() for c in response.tool_calls]}
                    )  # fmt: skip
                    for call in response.tool_calls:
                        result = await run_tool(call.name, call.arguments)
                        messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        except ValidationError as exc:
            return _failed(agent, round, f"InvalidRequest: {exc.errors()[0]['msg']}", started)
        except TimeoutError:
            return _failed(agent, round, TIMEOUT_ERROR, started)
        except EngineError as exc:
            return _failed(agent, round, _describe(exc), started)
        content = response.content or _calls_text(response)
        latency = (_loop_time() - started) * 1000.0
        return AgentReply(agent.name, round, content, response.model, cost, latency, None)

    return ask


async def call_agent(ask: Ask, agent: Agent, prompt: str, round: int, timeout_s: float | None) -> AgentReply:
    """``ask(agent, prompt, round)`` bounded by ``timeout_s``; never raises except ``CancelledError``.

    A timeout answers ``error="timeout"``; any exception from a custom ``Ask`` (a crashed agent) answers an error
    reply naming it, so the protocols treat it like any other failed agent.
    """
    started = _loop_time()
    try:
        async with asyncio.timeout(timeout_s):
            reply = await ask(agent, prompt, round)
    except TimeoutError:
        return _failed(agent, round, TIMEOUT_ERROR, started)
    except Exception as exc:  # an agent's crash is data for the protocol, not the end of the swarm
        return _failed(agent, round, _describe(exc), started)
    if reply.error is None and not reply.content.strip():
        return AgentReply(reply.agent, reply.round, "", reply.model, reply.cost_usd, reply.latency_ms, "empty answer")
    return reply
