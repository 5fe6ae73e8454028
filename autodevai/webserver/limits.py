"""The limits every server of ours keeps, and the file-descriptor arithmetic behind the connection cap.

Owns: ``Limits`` (connection cap, header/body/keep-alive timeouts, body cap, how much of a refused body is drained),
``raise_fd_limit`` (the soft ``RLIMIT_NOFILE`` raised to the hard limit, once per process) and ``connection_cap``
(how many connections fit in the descriptors this process may open).

Why a cap tied to descriptors: every connection is one descriptor, and a gateway request holds a second one (its
upstream connection) while it runs. A process that runs out cannot ``accept()`` at all, so one client holding 1,100
idle connections under the usual soft limit of 1,024 would shut everyone else out. With the cap below the limit the
server always has a descriptor left to accept a newcomer and, when full, closes the longest-idle connection for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

__all__ = ["ACCEPT_BATCH", "FD_RESERVE", "Limits", "connection_cap", "raise_fd_limit"]

log = logging.getLogger("autodevai.webserver")

ACCEPT_BATCH = 128  # the listen backlog; asyncio also accepts up to this many sockets per wake-up
FD_RESERVE = 64  # descriptors kept for everything else: the store, logs, the listening sockets, DNS
_MAX_SOFT_WITHOUT_HARD = 10240  # macOS refuses a soft limit above OPEN_MAX when the hard limit is "unlimited"
_raised: int | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """What one server allows. Times are seconds.

    ``header_timeout``: a new connection, or one that started a request after being idle, must deliver the
    request's whole head within this time (slow-header clients are closed). ``keepalive_timeout``: an idle
    keep-alive connection is closed after this. ``body_timeout``: a handler's ``Request.read`` fails with 408 when
    the body has not fully arrived by then. ``max_body``: bodies above this are refused with 413 before they are
    read. ``drain_bytes``/``drain_s``: after answering without reading the body (a refusal), at most this much of
    it is read and thrown away so the client can read the answer, then the connection is closed.
    ``max_connections``: the cap, lowered further by ``connection_cap`` to what the descriptor limit allows.
    """

    max_connections: int = 1000
    header_timeout: float = 10.0
    keepalive_timeout: float = 60.0
    body_timeout: float = 30.0
    max_body: int = 16 * 1024 * 1024
    drain_bytes: int = 1024 * 1024
    drain_s: float = 1.0


def raise_fd_limit() -> int | None:
    """Raise this process's soft limit of open files to its hard limit (the first call does it; later calls
    return the result). Returns the soft limit in force, or None where there is no such limit (Windows)."""
    global _raised
    if _raised is not None:
        return _raised
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = _MAX_SOFT_WITHOUT_HARD if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as exc:  # a sandbox may forbid it: keep the soft limit we have
            log.debug("cannot raise the open-files limit from %d to %d: %s", soft, wanted, exc)
    _raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return _raised


def connection_cap(limits: Limits, fd_limit: int | None) -> int:
    """How many connections one server keeps open at most: ``limits.max_connections``, lowered so that the
    connections, a just-accepted batch, one upstream connection per connection and ``FD_RESERVE`` all fit in
    ``fd_limit`` descriptors (None or "unlimited": no lowering). Never below 16."""
    if fd_limit is None or fd_limit < 0:
        return limits.max_connections
    fits = (fd_limit - FD_RESERVE - 2 * ACCEPT_BATCH) // 2
    return max(16, min(limits.max_connections, fits))
