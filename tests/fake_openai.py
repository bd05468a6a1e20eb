"""A local HTTP server that speaks the OpenAI chat-completions protocol.

OpenAI is a network boundary this machine cannot reach, so the tests stand in
for it at the wire level: the real `openai` client and llama-index code run
against this server. `behaviour` selects what it does next.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self) -> None:
        self.behaviour = "ok"  # ok | wrong_language | refuse | error500 | slow | held | no_citation | markup
        self.requests: list[dict] = []
        self.delay_s = 5.0
        # "held": each chat request waits for `release`; `waiting` counts those waiting now.
        self.release = threading.Event()
        self.waiting = 0
        self._count = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply_for(self, prompt: str) -> str:
        if "Standalone question:" in prompt:
            history = re.findall(r"^user: (.+)$", prompt, re.MULTILINE)
            last = re.search(r"Last question: (.+)", prompt).group(1)
            return f"{history[0]} {last}" if history else last
        numbers = sorted({int(n) for n in re.findall(r"^\[(\d+)\]", prompt, re.MULTILINE)})
        english = "Write the answer in English" in prompt
        if self.behaviour == "refuse":
            return "[[NOT_FOUND]]"
        if self.behaviour == "no_citation":
            return "The answer without any source." if english else "إجابة بلا مصدر."
        if self.behaviour == "markup":  # what Slack would act on if it went out unescaped
            return f"<!channel> The passages <https://evil.example|say so> & more [{numbers[0]}]."
        if self.behaviour == "wrong_language":
            english = not english
        first, second = numbers[0], numbers[-1]
        if english:
            return f"The passages state the answer clearly [{first}], and add detail [{second}][99]."
        return f"تذكر المقاطع الإجابة بوضوح [{first}]، وتضيف تفاصيل [{second}][99]."

    def _hold(self) -> None:
        with self._count:
            self.waiting += 1
        self.release.wait(timeout=120)
        with self._count:
            self.waiting -= 1

    def wait_for_waiting(self, count: int, timeout: float = 120) -> bool:
        """Whether `count` requests came to wait at once (polled until `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.waiting < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": "not found"}})
                if fake.behaviour == "error500":
                    return self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
                if fake.behaviour == "slow":
                    time.sleep(fake.delay_s)
                if fake.behaviour == "held":
                    fake._hold()
                prompt = "\n".join(str(m.get("content", "")) for m in body["messages"])
                text = fake.reply_for(prompt)
                if body.get("stream"):
                    return self._stream(body["model"], text)
                self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                })

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = re.findall(r"\S+\s*", text)
                for piece in pieces:
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                end = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": model,
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        return Handler
