"""A minimal OpenAI-shaped server that is not ours: stdlib ``http.server``, `/v1/models` and
`/v1/chat/completions` exactly in OpenAI's shapes (no OpenRouter fields, no usage cost), and it answers 400 to any
field OpenAI does not know — as api.openai.com does. Runs in a thread; also runnable as a script for CLI tests.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

OPENAI_FIELDS = {"model", "messages", "max_tokens", "temperature", "stream", "stream_options", "top_p", "stop", "n"}
MODELS = ["local-llama-3-8b", "local-qwen-7b"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "local"} for m in MODELS]
            self._send(200, {"object": "list", "data": data})
        else:
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        Handler.seen.append(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        unknown = set(body) - OPENAI_FIELDS
        if unknown:
            msg = f"Unrecognized request argument supplied: {', '.join(sorted(unknown))}"
            self._send(400, {"error": {"message": msg, "type": "invalid_request_error"}})
            return
        if body.get("model") not in MODELS:
            self._send(404, {"error": {"message": f"model {body.get('model')!r} not found", "type": "not_found"}})
            return
        prompt = body["messages"][-1]["content"]
        text = f"echo: {prompt}"
        usage = {"prompt_tokens": len(prompt.split()) + 5, "completion_tokens": len(text.split()), "total_tokens": 0}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        self._send(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            },
        )


class OpenAIServer:
    """``with OpenAIServer() as s: s.base_url`` — e.g. ``http://127.0.0.1:PORT/v1``."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> OpenAIServer:
        Handler.seen = []
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


if __name__ == "__main__":
    with OpenAIServer() as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # serve until stdin closes
