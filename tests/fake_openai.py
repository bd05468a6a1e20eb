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

THOUGHT = "the user asks about the target; passage [{b}] looks unrelated"
# behaviour -> (English, Arabic) reply, as models write them; {a} {b} {c}: the first, last and third passage numbers.
REPLIES = {
    "ok": ("The passages state the answer clearly [{a}], and add detail [{b}][99].",
           "تذكر المقاطع الإجابة بوضوح [{a}]، وتضيف تفاصيل [{b}][99]."),
    "refuse": ("[[NOT_FOUND]]", "[[NOT_FOUND]]"),
    "refuse_explained": ("[[NOT_FOUND]] The passages do not cover this.", "[[NOT_FOUND]] لا تتناول المقاطع هذا."),
    "no_citation": ("The answer without any source.", "إجابة بلا مصدر."),
    "markup": ("<!channel> The passages <https://evil.example|say so> & more [{a}].",) * 2,  # what Slack would act on
    "marker_list": ("The leaders agreed on the target [{a}, {b}].", "اتفق القادة على الهدف [{a}، {b}]."),
    "marker_range": ("The leaders agreed on the target [{a}-{c}].", "اتفق القادة على الهدف [{a}-{c}]."),
    "fullwidth": ("The leaders agreed on the target【{a}】, and on its timing【{b}】.",
                  "اتفق القادة على الهدف【{a}】، وعلى موعده【{b}】."),
    "footnotes": ("The leaders agreed on the target [^{a}], and on its timing [^{b}].\n\n[^{a}]: first passage\n"
                  "[^{b}]: last passage", "اتفق القادة على الهدف [^{a}]، وعلى موعده [^{b}].\n\n[^{a}]: المقطع الأول\n"
                  "[^{b}]: المقطع الأخير"),
    "labelled": ("The leaders agreed on the target [Source {a}], and on its timing [Passage {b}].",
                 "اتفق القادة على الهدف [المصدر {a}]، وعلى موعده [المقطع {b}]."),
    "parenthesised": ("The summit met in June (2025). The leaders agreed on the target ({a}).\n"
                      "(1) a first step, (2) a second step ({b}).",
                      "انعقدت القمة في يونيو (2025). اتفق القادة على الهدف ({a}).\n"
                      "(1) خطوة أولى، (2) خطوة ثانية ({b})."),
    "sources_list": ("The leaders agreed on the target [{a}].\n\nSources:\n[{a}] first passage\n[{b}] last passage",
                     "اتفق القادة على الهدف [{a}].\n\nالمصادر:\n[{a}] المقطع الأول\n[{b}] المقطع الأخير"),
    "sources_only": ("The leaders agreed on the target.\n\n**References:**\n- [{a}] first passage\n- [{b}] last passage",
                     "اتفق القادة على الهدف.\n\n**المصادر:**\n- [{a}] المقطع الأول\n- [{b}] المقطع الأخير"),
    "markdown_list": ("The leaders agreed on:\n- the target [{a}]\n- its timing [{b}] [99]\n  - in detail [{a}]\n\n"
                      "1. first the pledge [{b}]\n2. then the review\n* and a summit",
                      "اتفق القادة على:\n- الهدف [{a}]\n- موعده [{b}] [99]\n  - بالتفصيل [{a}]\n\n"
                      "1. أولاً التعهد [{b}]\n2. ثم المراجعة\n* وقمة"),
    "think": (f"<think>{THOUGHT}</think>\n\nThe leaders agreed on the target [{{a}}].",
              f"<think>{THOUGHT}</think>\n\nاتفق القادة على الهدف [{{a}}]."),
    "think_unterminated": (f"<think>{THOUGHT} and more",) * 2,  # the stream ended while thinking
    # A chat template that opens the thought in the prompt: the reply starts inside it.
    "think_lone": (f"{THOUGHT}</think>\n\nThe leaders agreed on the target [{{a}}].",
                   f"{THOUGHT}</think>\n\nاتفق القادة على الهدف [{{a}}]."),
    "partial_refusal": ("The passages don't say when it starts, but [{b}] says the target was agreed.",
                        "لا تذكر المقاطع موعد البدء، لكن [{b}] يذكر أن الهدف اتُّفق عليه."),
    "partial_refusal_token": ("The passages don't say when it starts, but [{b}] says the target was agreed.\n[[NOT_FOUND]]",
                              "[[NOT_FOUND]] لا تذكر المقاطع موعد البدء، لكن [{b}] يذكر أن الهدف اتُّفق عليه."),
}


class FakeOpenAI:
    def __init__(self) -> None:
        self.behaviour = "ok"  # a key of REPLIES, or: wrong_language | error500 | slow | held
        self.chunk_chars = 0  # stream in pieces this long (splitting words and tags); 0: word by word
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
            standalone = f"{history[0]} {last}" if history else last
            return f"<think>{THOUGHT}</think>\n{standalone}" if self.behaviour == "think" else standalone
        numbers = sorted({int(n) for n in re.findall(r"^\[(\d+)\]", prompt, re.MULTILINE)})
        english = "Write the answer in English" in prompt
        if self.behaviour == "wrong_language":
            english = not english
        reply = REPLIES.get(self.behaviour, REPLIES["ok"])[0 if english else 1]
        return reply.format(a=numbers[0], b=numbers[-1], c=numbers[min(2, len(numbers) - 1)])

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
                if fake.chunk_chars:
                    pieces = [text[i : i + fake.chunk_chars] for i in range(0, len(text), fake.chunk_chars)]
                else:
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
