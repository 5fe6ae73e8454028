"""Multi-agent swarms: agents, a message bus, consensus protocols and topologies (pure asyncio, no I/O).

``run_swarm(SwarmSpec(...), engine_ask(engine.executor.execute))`` runs a team of agents over the engine's
request path; see ``spec`` for what a run is asked and answers, ``topologies`` for the shapes and ``consensus`` for
the voting rules (``check_quorum`` states the n >= 3f+1 rule once).
"""

from autodevai.engine.swarm.agents import Agent, AgentReply, Ask, call_agent, engine_ask, system_prompt
from autodevai.engine.swarm.bus import MESSAGE_KINDS, BusMessage, MessageBus
from autodevai.engine.swarm.consensus import (
    Consensus,
    QuorumSize,
    Vote,
    check_quorum,
    leader_rounds,
    majority,
    normalize,
    plurality,
    quorum,
    quorum_problem,
    quorum_size,
    votes_of,
)
from autodevai.engine.swarm.spec import (
    CONSENSUS_RULES,
    TOPOLOGIES,
    ConsensusRule,
    SwarmResult,
    SwarmSpec,
    Topology,
    choose_topology,
    default_team,
    swarm_task_class,
)
from autodevai.engine.swarm.topologies import run_swarm

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
    "QuorumSize",
    "SwarmResult",
    "SwarmSpec",
    "Topology",
    "Vote",
    "call_agent",
    "check_quorum",
    "choose_topology",
    "default_team",
    "engine_ask",
    "leader_rounds",
    "majority",
    "normalize",
    "plurality",
    "quorum",
    "quorum_problem",
    "quorum_size",
    "run_swarm",
    "swarm_task_class",
    "system_prompt",
    "votes_of",
]
