"""HTTP API for programs: `POST /api/ask` and `GET /healthz`.

`/api/ask` returns exactly the CLI's `ask --json` object (`Answer.to_dict`),
so a script can switch between the two without changing its parser.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.answer.question import Turn
from app.answer.record import QuestionError
from app.index.chroma import IndexUnavailable
from app.interfaces.http_body import bounded_route

if TYPE_CHECKING:
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


def _not_ready(service: Service) -> HTTPException:
    status = service.status()
    reason = status.get("error") or status["progress"]
    return HTTPException(
        status_code=503,
        detail=f"the index is not ready yet ({reason}); try again shortly",
        headers={"Retry-After": RETRY_AFTER_S},
    )


def _unreadable() -> HTTPException:
    """The index (Chroma, or the embedder) failed this request: a passing state, not the client's fault."""
    return HTTPException(status_code=503, detail="the index cannot be read right now; try again shortly",
                         headers={"Retry-After": RETRY_AFTER_S})


def build_router(service: Service) -> APIRouter:
    router = APIRouter(route_class=bounded_route(service.settings.max_request_bytes))

    @router.post(
        "/api/ask",
        summary="Answer a question with citations",
        responses={
            200: {"description": "The same JSON object as `python -m app ask --json`."},
            400: {"description": "The question cannot be asked (empty, too long, not valid text)."},
            413: {"description": "The body is over NEWSQA_MAX_REQUEST_BYTES."},
            422: {"description": "The body is not JSON of the expected shape."},
            503: {"description": "The index is still being built, or cannot be read right now (Retry-After)."},
        },
    )
    def ask(request: AskRequest) -> dict[str, Any]:
        # A plain `def`: FastAPI runs it in its thread pool, so a slow answer
        # never blocks the event loop that serves everyone else.
        if not service.ready:
            raise _not_ready(service)
        try:
            return service.engine.answer(request.question, request.history).to_dict()
        except QuestionError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        except IndexUnavailable:
            log.exception("could not answer")  # names the store's location: for the operator only
            raise _unreadable() from None

    @router.get(
        "/healthz",
        summary="Readiness and index size",
        responses={503: {"description": "Not ready: the index is being built (or failed)."}},
    )
    def healthz() -> JSONResponse:
        status = service.status()
        return JSONResponse(status, status_code=200 if status["ready"] else 503)

    return router
