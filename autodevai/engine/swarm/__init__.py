"""Multi-agent swarms: agents, a message bus, consensus protocols and topologies (pure asyncio, no I/O).

``run_swarm(SwarmSpec(...), engine_ask(engine.executor.execute))`` runs a team of agents over the engine's
request path; see ``topologies`` for the shapes and ``consensus`` for the voting rules.
"""

from autodevai.engine.swarm.agents import Agent, AgentReply, Ask, call_agent, engine_ask, system_prompt
from autodevai.engine.swarm.bus import MESSAGE_KINDS, BusMessage, MessageBus
from autodevai.engine.swarm.consensus import (
    Consensus,
    Vote,
    leader_rounds,
    majority,
    normalize,
    plurality,
    quorum,
    votes_of,
)
from autodevai.engine.swarm.topologies import (
    CONSENSUS_RULES,
    TOPOLOGIES,
    ConsensusRule,
    SwarmResult,
    SwarmSpec,
    Topology,
    choose_topology,
    default_team,
    run_swarm,
    swarm_task_class,
)

__all__ = [
    "CONSENSUS_RULES",
    "MESSAGE_KINDS",
    "TOPOLOGIES",
    "Agent",
    "AgentReply",
    "Ask",
    "BusMessage",
    "Consensus",
    "ConsensusRule",
    "MessageBus",
    "SwarmResult",
    "SwarmSpec",
    "Topology",
    "Vote",
    "call_agent",
    "choose_topology",
    "default_team",
    "engine_ask",
    "leader_rounds",
    "majority",
    "normalize",
    "plurality",
    "quorum",
    "run_swarm",
    "swarm_task_class",
    "system_prompt",
    "votes_of",
]
