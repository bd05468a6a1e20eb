"""HTTP API for programs: `POST /api/ask` and `GET /healthz`.

`/api/ask` returns exactly the CLI's `ask --json` object (`Answer.to_dict`),
so a script can switch between the two without changing its parser.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.answer.question import Turn
from app.answer.record import QuestionError
from app.filters import parse_filters
from app.index.chroma import IndexUnavailable
from app.interfaces.http_body import bounded_route
from app.interfaces.service import Service

log = logging.getLogger(__name__)
RETRY_AFTER_S = "5"


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Arabic or English.")
    history: list[Turn] = Field(
        default_factory=list,
        description="Earlier turns of the conversation, oldest first, for follow-up questions "
        "(only the latest ones are used: NEWSQA_MAX_HISTORY_TURNS, NEWSQA_MAX_HISTORY_CHARS).",
    )
    since: str | None = Field(None, description="Only articles dated on or after: YYYY-MM-DD, YYYY-MM or YYYY.",
                              examples=["2025-06-01"])
    until: str | None = Field(None, description="Only articles dated on or before: YYYY-MM-DD, YYYY-MM or YYYY.",
                              examples=["2025-06-30"])
    sources: list[str] | None = Field(None, description="Only articles of these publishers.")


def _retry_later(detail: str) -> HTTPException:
    """A 503 with Retry-After: the index is building or briefly unreadable, a passing state
    of the server that the client should simply retry, never its fault. `detail` is shown
    to anyone, so it must not name server paths (those go to the log)."""
    return HTTPException(status_code=503, detail=detail, headers={"Retry-After": RETRY_AFTER_S})


def build_router(service: Service) -> APIRouter:
    router = APIRouter(route_class=bounded_route(service.settings.max_request_bytes))

    @router.post(
        "/api/ask",
        summary="Answer a question with citations",
        responses={
            200: {"description": "The same JSON object as `python -m app ask --json`."},
            400: {"description": "The question cannot be asked (empty, too long, not valid text), "
                               "or a filter is malformed (the message names it)."},
            413: {"description": "The body is over NEWSQA_MAX_REQUEST_BYTES."},
            422: {"description": "The body is not JSON of the expected shape."},
            503: {"description": "The index is still being built, or cannot be read right now (Retry-After)."},
        },
    )
    def ask(request: AskRequest) -> dict[str, Any]:
        # A plain `def`: FastAPI runs it in its thread pool, so a slow answer
        # never blocks the event loop that serves everyone else.
        if not service.ready:
            status = service.status()
            reason = status.get("error") or status["progress"]  # the error is already free of server paths
            raise _retry_later(f"the index is not ready yet ({reason}); try again shortly")
        try:
            filters = parse_filters(request.since, request.until, request.sources)
            return service.engine.answer(request.question, request.history, filters).to_dict()
        except QuestionError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        except IndexUnavailable:
            log.exception("could not answer")  # names the store's location: for the operator only
            raise _retry_later("the index cannot be read right now; try again shortly") from None

    @router.get(
        "/healthz",
        summary="Readiness and index size",
        responses={503: {"description": "Not ready: the index is being built (or failed)."}},
    )
    def healthz() -> JSONResponse:
        status = service.status()
        return JSONResponse(status, status_code=200 if status["ready"] else 503)

    return router
