"""The local OpenAI-compatible endpoint: any tool that speaks OpenAI's chat-completions API gets AutoDevAI's
routing, budgets, breakers, metrics and history by pointing its base URL at ``Gateway.base_url``.

Modules: ``server`` (``Gateway``: lifecycle, bind address), ``app`` (auth, routes, chat and models handlers),
``request`` (an OpenAI chat body as an engine ``ChatRequest``: every field honored or passed through verbatim),
``response`` (``chat.completion``, chunks and model lists from engine values), ``errors`` (engine errors and bad
bodies as OpenAI errors), ``token`` (the bearer token: env var, keyring, else a 0600 file in the config dir),
``foreground`` (``autodevai serve``: run until Ctrl+C). The HTTP/1.1 layer is the shared ``autodevai.webserver``.
The engine never imports this package, nor do the other faces: the launcher (``autodevai.launch``) runs the
gateway's verbs and hands the window a way to start it.
"""

from __future__ import annotations

from autodevai.compose import App, secret_store
from autodevai.gateway.request import VIRTUAL_MODELS
from autodevai.gateway.server import Gateway
from autodevai.gateway.token import get_or_create_token

__all__ = ["VIRTUAL_MODELS", "Gateway", "get_or_create_token", "serve"]

DEFAULT_PORT = 8765


async def serve(app: App, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, token: str | None = None) -> Gateway:
    """Start a gateway over ``app.engine`` and return it running (``await gateway.stop()`` to end it).

    ``token`` None takes ``AUTODEVAI_GATEWAY_TOKEN``, else the keyring's gateway token, else the 0600 token file
    (created on first use).
    Raises ``ConfigError`` when there is no token source or the address cannot be bound.
    """
    if token is None:
        token = get_or_create_token(app.secrets if app.secrets is not None else secret_store())
    gateway = Gateway(app.engine, token=token, host=host, port=port)
    await gateway.start()
    return gateway
