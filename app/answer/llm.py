"""LLM answers through llama-index's response synthesizer and any OpenAI-compatible server.

The passages go in numbered `[n]`; the prompt (`prompts/answer.txt`) asks for
the question's language and a marker after every claim. What comes back is
written as real models write (`llm_text`: thinking, sources lists, other marker
forms) and checked by `citations.resolve_citations`, never trusted as is.
"""

from __future__ import annotations

from llama_index.core import get_response_synthesizer
from llama_index.core.prompts import PromptTemplate
from llama_index.core.response_synthesizers import ResponseMode
from llama_index.core.schema import NodeWithScore, TextNode
from llama_index.llms.openai_like import OpenAILike

from app.answer.citations import resolve_citations
from app.answer.llm_text import StreamedReply, answer_text, without_thinking
from app.answer.prompts import NOT_FOUND_TOKEN, message, template
from app.answer.question import History
from app.answer.record import Draft
from app.config import Settings
from app.retrieve import Hit
from app.text.arabic import detect_language

CONTEXT_WINDOW = 16_000


class LLMAnswerer:
    def __init__(self, settings: Settings) -> None:
        self.model = settings.llm_model
        self.llm = OpenAILike(
            model=settings.llm_model,
            api_key=settings.openai_api_key,
            api_base=settings.openai_base_url or "https://api.openai.com/v1",
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
            temperature=settings.llm_temperature,
            is_chat_model=True,
            context_window=CONTEXT_WINDOW,
        )

    def _synthesizer(self, language: str):
        prompt = PromptTemplate(template("answer")).partial_format(
            language=message("language_names", language), not_found=NOT_FOUND_TOKEN
        )
        return get_response_synthesizer(
            llm=self.llm, text_qa_template=prompt, response_mode=ResponseMode.COMPACT, streaming=True
        )

    @staticmethod
    def _nodes(hits: list[Hit]) -> list[NodeWithScore]:
        nodes = []
        for n, hit in enumerate(hits, start=1):
            p = hit.passage
            heading = " · ".join(x for x in (p.title, p.date) if x)
            text = f"[{n}] {heading}\n{p.text}" if heading else f"[{n}]\n{p.text}"
            nodes.append(NodeWithScore(node=TextNode(text=text, id_=p.id), score=hit.score))
        return nodes

    def stream(self, question: str, hits: list[Hit], language: str) -> StreamedReply:
        """The reply as it comes (iterate it), then whole (`.text`, for `draft`)."""
        response = self._synthesizer(language).synthesize(question, nodes=self._nodes(hits))
        return StreamedReply(response.response_gen)

    def draft(self, raw: str, hits: list[Hit], language: str) -> Draft:
        """The streamed text as an answer; `ValueError` when it cannot stand as one (the engine then
        falls back to quoting): it cites nothing, or it is in another language than the question.

        The refusal token with no valid citation is a refusal. Next to a cited
        partial answer ("the passages don't say X, but [2] says Y") the answer
        stands and the token goes: models add it when they can answer only part."""
        text, refused = answer_text(raw, len(hits))
        text, citations = resolve_citations(text, hits)
        if not citations:
            if refused:
                return Draft(message("not_found", language), [], False, "llm")
            raise ValueError("the LLM answer cited no passage")
        if detect_language(text) != language:
            raise ValueError("the LLM answered in another language than the question's")
        return Draft(text, citations, True, "llm")

    def condense(self, question: str, history: History) -> str:
        """A follow-up rewritten as a standalone question (the conversation gives it its subject).

        `history` is already bounded by the engine (`question.bound_history`).
        """
        turns = "\n".join(f"{t.role}: {t.content}" for t in history)
        rewritten = self.llm.complete(template("condense").format(chat_history=turns, question=question)).text
        return without_thinking(rewritten).strip() or question
