"""The chat page (Gradio Blocks) and the HTML it shows for answers and sources.

Everything that came from an article, a question or a file name is escaped
here before it becomes HTML, including the characters Markdown and LaTeX would
act on, so an uploaded article cannot inject a tag, an event handler or a
`javascript:` link. Each block gets its own direction from its first strong
character, so Arabic reads right-to-left and English left-to-right side by side.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from app.answer.markers import MARKER, marker_numbers
from app.answer.prompts import wording
from app.answer.record import Answer, Citation, Passage, QuestionError
from app.feedback import record_feedback
from app.filters import parse_filters
from app.interfaces.service import Service
from app.text.arabic import Direction, Language, detect_language, text_direction
from app.uploads import ALLOWED_SUFFIXES, UploadOutcome, add_articles, discard_received

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CSS_FILE = STATIC / "web.css"
JS_FILE = STATIC / "web.js"
# "NewsQA Arabic" is defined in web.css from local Naskh fonts for Arabic code points only,
# so Arabic gets a Naskh face and Latin a sans face. Nothing is downloaded.
FONTS = ["NewsQA Arabic", "Segoe UI", "Helvetica Neue", "Arial", "Liberation Sans", "Tahoma", "sans-serif"]
CONSULTED_CHARS = 240  # how much of an uncited passage "also consulted" shows

# `&<>"'` for HTML, the rest so Markdown, GFM and LaTeX see nothing to act on.
_ESCAPES = str.maketrans({ch: f"&#{ord(ch)};" for ch in "&<>\"'[]()*_`~#|$\\!{}:="})


def labels() -> dict[str, dict[str, str]]:
    return wording("ui_labels")


def examples() -> dict[str, list[str]]:
    return wording("examples")


def esc(text: str) -> str:
    """Text made inert for HTML, Markdown and LaTeX; line breaks kept as `<br>`."""
    return "<br>".join(line.translate(_ESCAPES) for line in text.split("\n"))


def _paragraphs(text: str, refs: dict[int, str] | None = None) -> str:
    """One `<p>` per line with its own direction; `[n]` become links when `refs` has n."""
    out = []
    for line in text.split("\n"):
        if line.strip():
            out.append(f'<p dir="{text_direction(line)}">{_linked(line, refs or {})}</p>')
    return "".join(out)


def _linked(line: str, refs: dict[int, str]) -> str:
    pieces, last = [], 0
    for match in MARKER.finditer(line):
        numbers = marker_numbers(match.group(1))
        if not all(n in refs for n in numbers):
            continue
        pieces.append(esc(line[last : match.start()]))
        pieces.append("".join(f'<a class="nqa-ref" href="#{refs[n]}">{esc(f"[{n}]")}</a>' for n in numbers))
        last = match.end()
    pieces.append(esc(line[last:]))
    return "".join(pieces)


def quote_spans(text: str, quotes: list[str]) -> list[tuple[int, int]]:
    """Where the quoted sentences sit in `text` (whitespace-insensitive), merged and sorted."""
    spans = []
    for quote in quotes:
        words = quote.split()
        if words:
            match = re.search(r"\s+".join(map(re.escape, words)), text)
            if match:
                spans.append(match.span())
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, quotes: list[str]) -> str:
    """The escaped passage with the quoted sentences in `<mark>` (blank lines folded)."""
    text = re.sub(r"\n\s*\n", "\n", text.strip())
    pieces, last = [], 0
    for start, end in quote_spans(text, quotes):
        pieces += [esc(text[last:start]), f"<mark>{esc(text[start:end])}</mark>"]
        last = end
    pieces.append(esc(text[last:]))
    return "".join(pieces)


def _bdi(text: str, cls: str = "") -> str:
    """Text isolated from its neighbours' direction (a Latin file name in an Arabic line)."""
    if not text:
        return ""
    return f'<bdi class="{cls}">{esc(text)}</bdi>' if cls else f"<bdi>{esc(text)}</bdi>"


_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, **values: str) -> str:
    """A label template with its `{name}` slots filled by ready HTML (usually `_bdi(...)`)."""
    pieces, last = [], 0
    for match in _SLOT.finditer(template):
        pieces += [esc(template[last : match.start()]), values[match.group(1)]]
        last = match.end()
    pieces.append(esc(template[last:]))
    return "".join(pieces)


def _label(cls: str, template: str, *, direction: Direction | None = None, **values: str) -> str:
    """One line in the direction of its own label (an English label inside an Arabic answer)."""
    direction = direction or text_direction(_SLOT.sub("", template))  # the words, not the slot names
    return f'<div class="{cls}" dir="{direction}">{fill(template, **values)}</div>'


def render_card(citation: Citation, anchor: str) -> str:
    head = " · ".join(
        part
        for part in (_bdi(citation.date, "nqa-date"), _bdi(citation.publisher), _bdi(citation.source, "nqa-file"))
        if part
    )
    title = _bdi(citation.title, "nqa-title")
    if citation.url:  # ingest kept only http(s) addresses; a new tab that cannot reach back to the page
        title = (f'<a class="nqa-link" href="{esc(citation.url)}" target="_blank" rel="noopener noreferrer nofollow">'
                 f'{title or _bdi(citation.url, "nqa-file")}</a>')
    return (
        f'<div class="nqa-card" id="{anchor}" dir="{text_direction(citation.text)}">'
        f'<div class="nqa-card-head" dir="{text_direction(citation.title or citation.text)}">'
        f'<span class="nqa-n">{esc(f"[{citation.n}]")}</span> '
        f'{title} <span class="nqa-meta">{head}</span></div>'
        f'<div class="nqa-passage">{highlight(citation.text, citation.quotes)}</div></div>'
    )


def render_answer(answer: Answer, model: str | None = None) -> str:
    """An answer with `[n]` links to numbered source cards, labelled in the question's language."""
    text = labels()[detect_language(answer.question)]
    key = uuid.uuid4().hex[:8]  # anchors unique across the conversation
    refs = {c.n: f"nqa-{key}-{c.n}" for c in answer.citations}
    parts = [f'<div class="nqa-answer" dir="{text_direction(answer.answer)}">']
    if not answer.found:
        parts.append(_label("nqa-notfound", text["not_found"]))
    if answer.short_answer:  # the figure, date or name first, in bold, above the quotes that prove it
        parts.append(f'<div class="nqa-short" dir="{text_direction(answer.short_answer)}">'
                     f"<strong>{esc(answer.short_answer)}</strong></div>")
    parts.append(f'<div class="nqa-text">{_paragraphs(answer.answer, refs)}</div>')
    if answer.mode == "llm":
        parts.append(_label("nqa-mode", text["answer_llm"], model=_bdi(model or "LLM")))
    else:
        parts.append(_label("nqa-mode", text["answer_extractive"]))
    if answer.notice:
        parts.append(_label("nqa-notice", answer.notice))
    if answer.citations:
        heading = text["sources"] if answer.found else text["closest"]
        parts.append(f'<div class="nqa-sources">{_label("nqa-sources-h", heading)}')
        parts += [render_card(c, refs[c.n]) for c in answer.citations]
        parts.append("</div>")
    consulted = [p for p in answer.passages if p.cited is None] if answer.found else []
    if consulted:
        summary = fill(text["consulted"], count=_bdi(str(len(consulted))))
        parts.append(f'<details class="nqa-consulted"><summary dir="{text_direction(text["consulted"])}">'
                     f"{summary}</summary>{''.join(render_consulted(p) for p in consulted)}</details>")
    parts.append("</div>")
    return "".join(parts)


def render_consulted(passage: Passage) -> str:
    """A retrieved passage the answer does not cite: where it is from and how it begins."""
    opening = passage.text if len(passage.text) <= CONSULTED_CHARS else passage.text[:CONSULTED_CHARS] + "…"
    head = " · ".join(_bdi(part, cls) for part, cls in ((passage.date, "nqa-date"), (passage.source, "nqa-file")) if part)
    return (
        f'<div class="nqa-consulted-item" dir="{text_direction(passage.text)}">'
        f'<div class="nqa-card-head">{_bdi(passage.title, "nqa-title")} <span class="nqa-meta">{head}</span></div>'
        f'<div class="nqa-passage">{esc(opening)}</div></div>'
    )


def render_text(text: str, cls: str) -> str:
    """A plain message (question, partial answer, notice) in its own direction."""
    return f'<div class="{cls}" dir="{text_direction(text)}">{_paragraphs(text)}</div>'


def render_status(status: dict[str, Any], lang: Language) -> str:
    """The status line: answer mode and index size, or the build's progress."""
    text = labels()[lang]
    if status["ready"]:
        if status["mode"] == "llm":
            mode = fill(text["mode_llm"], model=_bdi(status.get("model") or "?"))
        else:
            mode = fill(text["mode_extractive"])
        return _label("nqa-status nqa-ready", text["status_ready"], mode=mode,
                      articles=_bdi(str(status["articles"])), passages=_bdi(str(status["passages"])))
    if status.get("error"):
        return _label("nqa-status nqa-failed", text["status_failed"], error=_bdi(status["error"]))
    return _label("nqa-status nqa-building", text["status_building"], progress=_bdi(status["progress"]))


def _names(names: list[str], separator: str) -> str:
    return separator.join(_bdi(name) for name in names)


def render_upload(outcome: UploadOutcome, lang: Language) -> str:
    """What happened to each uploaded file; a refused file's reason keeps its own direction."""
    text = labels()[lang]
    lines = []
    if outcome.added:
        lines.append(_label("nqa-line", text["upload_added"], names=_names(outcome.added, text["list_separator"])))
    if outcome.unchanged:
        lines.append(_label("nqa-line", text["upload_unchanged"], names=_names(outcome.unchanged, text["list_separator"])))
    if outcome.rejected:
        lines.append(_label("nqa-line", text["upload_rejected"]))
        for name, reason in outcome.rejected:
            detail = reason.removeprefix(f"{name}: ")
            lines.append(
                _label(
                    "nqa-line",
                    "• {name}: {detail}",
                    direction=text_direction(text["upload_rejected"]),
                    name=_bdi(name, "nqa-file"),
                    detail=_bdi(detail),
                )
            )
    state = "failed" if outcome.rejected else "ready"
    return f'<div class="nqa-upload-result nqa-{state}">{"".join(lines)}</div>'


def theme() -> gr.themes.Base:
    return gr.themes.Default(font=FONTS, font_mono=["DejaVu Sans Mono", "Consolas", "monospace"])


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB"


class ChatUI:
    """The page: status line, chat, examples, upload, language switch, thumbs up/down.

    Each event's handler is a method, so it can be called (and tested) without a
    browser, and its name is the event's API name (`respond`, `upload`, `vote`...,
    which scripts call). `build` lays the components out and wires them to the methods.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self.inbox = Path(gr.utils.get_upload_folder())  # where Gradio's upload endpoint stores what it receives

    def respond(self, message: str, chat: list, turns: list, answers: dict, lang: Language,
                since: str = "", until: str = "", publishers: list[str] | None = None) -> Iterator[tuple]:
        """A question: the pending line, the streamed text, then the cited answer (chat, box, turns, answers),
        within the period and publishers chosen (a malformed date is a warning, the question kept)."""
        # A lone surrogate (only a script sends one) would break the page's event stream when echoed.
        message = message.encode("utf-8", "replace").decode("utf-8")
        if not message.strip():
            return
        if not self.service.ready:
            raise gr.Error(labels()[lang]["not_ready"])
        before = list(chat)
        chat = before + [
            {"role": "user", "content": render_text(message, "nqa-q")},
            {"role": "assistant", "content": render_text(labels()[detect_language(message)]["thinking"], "nqa-pending")},
        ]
        yield chat, "", turns, answers
        partial, final = "", None
        try:
            filters = parse_filters(since, until, publishers)
            for item in self.service.engine.stream(message, turns, filters):
                if isinstance(item, Answer):
                    final = item
                    break
                partial += item
                chat[-1] = {"role": "assistant", "content": render_text(partial, "nqa-answer nqa-streaming")}
                yield chat, gr.skip(), turns, answers
        except QuestionError as exc:  # nothing lost: the question goes back in the box
            gr.Warning(str(exc))
            yield before, message, turns, answers
            return
        except Exception as exc:
            log.exception("answering failed")  # the details (which may hold server paths) go to the log only
            error = _label("nqa-error", labels()[detect_language(message)]["error"], error=_bdi(type(exc).__name__))
            chat[-1] = {"role": "assistant", "content": error}
            yield chat, message, turns, answers
            return
        if final is None:
            return
        chat[-1] = {"role": "assistant", "content": render_answer(final, self.settings.llm_model)}
        # Only the turns the engine would use are kept: a long chat holds no more in memory.
        turns = turns + [{"role": "user", "content": final.question}, {"role": "assistant", "content": final.answer}]
        turns = turns[max(len(turns) - self.settings.max_history_turns, 0):]
        answers = {**answers, str(len(chat) - 1): final.to_dict(id=uuid.uuid4().hex)}  # the id: one vote each
        yield chat, gr.skip(), turns, answers

    def vote(self, answers: dict, lang: Language, data: gr.LikeData, request: gr.Request) -> None:
        """A thumb up or down on an answer, one per visitor and answer (a change replaces it)."""
        record = answers.get(str(data.index if isinstance(data.index, int) else data.index[0]))
        if record is None or data.liked not in (True, False):
            return
        record_feedback(
            self.settings,
            voter=request.session_hash or "",
            answer_id=record["id"],
            question=record["question"],
            answer=record,
            rating="up" if data.liked else "down",
            channel="web",
        )
        gr.Info(labels()[lang]["feedback_thanks"])

    def upload(
        self,
        files: list[dict[str, Any]] | None,
        lang: Language,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio hands a handler its progress bar)
    ) -> tuple:
        """Files as Gradio stored them (`preprocess=False`: no temp copies), added and then deleted;
        the page shows the indexing's progress meanwhile."""
        if not files:
            return render_text(labels()[lang]["upload_none"], "nqa-upload-result nqa-failed"), gr.skip(), gr.skip()
        if not self.service.ready:
            raise gr.Error(labels()[lang]["not_ready"])
        received = [Path(f["path"]) for f in files]
        try:
            outcome = add_articles(
                self.settings.corpus_dir,
                self.service.engine,
                received,
                inbox=self.inbox,
                max_bytes=self.settings.max_upload_bytes,
                max_files=self.settings.max_upload_files,
                progress=lambda status: progress((status.done, status.total), desc=status.line()),
            )
        finally:  # added or refused, a handled upload has no further use
            discard_received(received, self.inbox)
        return render_upload(outcome, lang), None, render_status(self.service.status(), lang)

    def refresh(self, lang: Language) -> tuple:
        """The status line, polled until the index is ready."""
        return render_status(self.service.status(), lang), gr.Timer(active=not self.service.ready)

    def relabel(self, lang: Language) -> tuple:
        """Every label on the page in `lang` (the chat itself stays as it is)."""
        text = labels()[lang]
        return (
            f'<div class="nqa-head" dir="{text_direction(text["title"])}"><h1>{esc(text["title"])}</h1>'
            f'<p>{esc(text["subtitle"])} <a href="docs" target="_blank">{esc(text["api_docs"])}</a></p></div>',
            render_status(self.service.status(), lang),
            gr.Chatbot(label=text["chat_label"], placeholder=_label("nqa-placeholder", text["chat_placeholder"])),
            gr.Textbox(label=text["question_label"], placeholder=text["question_placeholder"], rtl=lang == "ar"),
            gr.Button(value=text["send"]),
            gr.Button(value=text["new_chat"]),
            gr.Accordion(label=text["upload_title"]),
            _label(
                "nqa-help",
                text["upload_help"],
                count=_bdi(str(self.settings.max_upload_files)),
                limit=_bdi(_size(self.settings.max_upload_bytes)),
            ),
            gr.File(label=text["upload_files"]),
            gr.Button(value=text["upload_button"]),
            gr.Dataset(label=text["examples"]),
            gr.Accordion(label=text["period_title"]),
            gr.Textbox(label=text["since"]),
            gr.Textbox(label=text["until"]),
            self._publisher_choice(text["publishers"]),
        )

    def _publisher_choice(self, label: str) -> gr.Dropdown:
        """The publishers to choose from, shown only when the index has more than one."""
        names = self.service.engine.publishers() if self.service.ready else []
        return gr.Dropdown(label=label, choices=names, visible=len(names) > 1)

    def on_load(self, request: gr.Request) -> tuple:
        """Start in the browser's language (Arabic if it prefers Arabic)."""
        accept = (request.headers.get("accept-language") or "") if request else ""
        lang: Language = "ar" if accept.strip().lower().startswith("ar") else "en"
        return (lang, *self.relabel(lang))

    def build(self) -> gr.Blocks:
        """The page's components, wired to the handlers above."""
        # Uploads nobody added are deleted after `upload_keep_seconds` (checked as often).
        keep = self.settings.upload_keep_seconds
        with gr.Blocks(title="newsqa", analytics_enabled=False, delete_cache=(keep, keep)) as demo:
            with gr.Row(elem_classes="nqa-top"):
                header = gr.HTML(elem_id="nqa-header")
                lang = gr.Radio(
                    choices=[(labels()[c]["language_name"], c) for c in ("ar", "en")],
                    value="en",
                    show_label=False,
                    container=False,
                    elem_id="nqa-lang",
                    scale=0,
                    min_width=200,
                )
            status = gr.HTML(elem_id="nqa-status")
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="nqa-chat",
                        height=600,
                        layout="panel",
                        latex_delimiters=[],
                        buttons=[],
                        sanitize_html=True,
                    )
                    with gr.Row():
                        question = gr.Textbox(elem_id="nqa-question", scale=8, lines=1, max_lines=6, autofocus=True)
                        send = gr.Button(variant="primary", elem_id="nqa-send", scale=1, min_width=90)
                    new_chat = gr.Button(size="sm", elem_id="nqa-new")
                with gr.Column(scale=1, min_width=260):
                    sample = gr.Examples(
                        examples=[[q] for q in examples()["ar"] + examples()["en"]],
                        inputs=[question],
                        label=labels()["en"]["examples"],
                        examples_per_page=20,
                    )
                    with gr.Accordion(open=False, elem_id="nqa-upload-box") as upload_box:
                        upload_help = gr.HTML()
                        files = gr.File(
                            file_count="multiple",
                            file_types=list(ALLOWED_SUFFIXES),
                            type="filepath",
                            elem_id="nqa-upload",
                        )
                        upload_btn = gr.Button(elem_id="nqa-upload-btn")
                        upload_result = gr.HTML(elem_id="nqa-upload-result")
                    with gr.Accordion(open=False, elem_id="nqa-period-box") as period_box:
                        since = gr.Textbox(elem_id="nqa-since", max_lines=1, max_length=10)
                        until = gr.Textbox(elem_id="nqa-until", max_lines=1, max_length=10)
                        publishers = gr.Dropdown(multiselect=True, choices=[], visible=False, elem_id="nqa-publishers")
            turns = gr.State([])  # plain {"role", "content"} text for the engine's follow-ups
            answers = gr.State({})  # chat message index -> Answer.to_dict(), for feedback
            timer = gr.Timer(1.0)

            gr.on(
                [question.submit, send.click],
                self.respond,
                inputs=[question, chatbot, turns, answers, lang, since, until, publishers],
                outputs=[chatbot, question, turns, answers],
                concurrency_id="answer",
                # Enter pressed while the last answer is still closing waits its turn: Gradio's
                # default ("once") drops it, and the question was silently lost (seen under load).
                trigger_mode="always_last",
            )
            gr.on(
                [new_chat.click, chatbot.clear],
                lambda: ([], [], {}),
                outputs=[chatbot, turns, answers],
                concurrency_limit=None,
            )
            chatbot.like(self.vote, inputs=[answers, lang], concurrency_limit=None)
            # Unprocessed: gr.File's preprocessing leaves an empty temp file per file in the upload
            # folder (gradio 6.31), never deleted; the paths Gradio checked are all the handler needs.
            upload_btn.click(
                self.upload,
                inputs=[files, lang],
                outputs=[upload_result, files, status],
                concurrency_limit=1,
                preprocess=False,
            )
            timer.tick(self.refresh, inputs=[lang], outputs=[status, timer], concurrency_limit=None)
            labelled = [header, status, chatbot, question, send, new_chat,
                        upload_box, upload_help, files, upload_btn, sample.dataset, period_box, since, until, publishers]
            lang.input(self.relabel, inputs=[lang], outputs=labelled, concurrency_limit=None)
            demo.load(self.on_load, outputs=[lang, *labelled], concurrency_limit=None)
        demo.queue(default_concurrency_limit=self.settings.concurrency)
        return demo
