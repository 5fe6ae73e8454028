"""The HTTP/1.1 server under the simulator and the gateway: aiohttp's low-level server (``aiohttp.web.Server``) on
whatever asyncio loop is running (the gateway also runs inside the GUI's qasync loop), with the limits a server
on a developer's machine needs.

Modules: ``limits`` (the numbers, the open-files limit and the connection cap), ``connections`` (the cap, the header
timeout, idle/busy connections, malformed requests counted not logged one by one), ``exchange`` (``Request`` and
``Responder``: what handlers see), ``server`` (``HttpServer``: start, dispatch, stop).

What a client meets:
- strict HTTP/1.1 parsing (aiohttp's llhttp): a bad version, a ``Content-Length`` that is not digits or appears
  twice, ``Transfer-Encoding`` with ``Content-Length`` or other than ``chunked``, control bytes in a header, a bad
  chunk size, bare-LF line ends: 400 and the connection closed, counted, one log line a minute at most;
- at most ``Limits.max_connections`` connections, fewer when the open-files limit is low (raised to the hard
  limit at start); at the cap a newcomer takes the place of the longest-idle connection, or gets 503 when every
  connection is busy;
- a head must arrive within ``header_timeout``, a body within ``body_timeout``; idle keep-alive connections close
  after ``keepalive_timeout``;
- a body is read only when a handler asks (``await request.read()``), after it has checked auth, method and
  path; one above 16 MiB is refused with 413 before it is read; a refused body is drained at most 1 MiB, then the
  connection closes;
- a client that disconnects cancels its handler.

Used by ``autodevai.sim`` and ``autodevai.gateway``; it knows neither.
"""

from __future__ import annotations

from autodevai.webserver.connections import ServerCounters
from autodevai.webserver.exchange import BodyRefused, ClientGone, Request, Responder
from autodevai.webserver.limits import Limits
from autodevai.webserver.server import ErrorBody, Handler, HttpServer, default_error_body

__all__ = [
    "BodyRefused",
    "ClientGone",
    "ErrorBody",
    "Handler",
    "HttpServer",
    "Limits",
    "Request",
    "Responder",
    "ServerCounters",
    "default_error_body",
]
