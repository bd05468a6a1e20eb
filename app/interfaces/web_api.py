"""HTTP API for programs: `POST /api/ask` and `GET /healthz`.

`/api/ask` returns exactly the CLI's `ask --json` object (`Answer.to_dict`),
so a script can switch between the two without changing its parser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.answer.record import QuestionError

if TYPE_CHECKING:
    from app.interfaces.web import Service


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, in Arabic or English.")
    history: list[HistoryTurn] = Field(
        default_factory=list,
        description="Earlier turns of the conversation, oldest first, for follow-up questions.",
    )


def _not_ready(service: Service) -> HTTPException:
    status = service.status()
    reason = status.get("error") or status["progress"]
    return HTTPException(
        status_code=503,
        detail=f"the index is not ready yet ({reason}); try again shortly",
        headers={"Retry-After": "5"},
    )


def build_router(service: Service) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/api/ask",
        summary="Answer a question with citations",
        responses={
            200: {"description": "The same JSON object as `python -m app ask --json`."},
            400: {"description": "The question cannot be asked (empty, too long)."},
            422: {"description": "The body is not JSON of the expected shape."},
            503: {"description": "The index is still being built."},
        },
    )
    def ask(request: AskRequest) -> dict[str, Any]:
        # A plain `def`: FastAPI runs it in its thread pool, so a slow answer
        # never blocks the event loop that serves everyone else.
        if not service.ready:
            raise _not_ready(service)
        history = [turn.model_dump() for turn in request.history]
        try:
            return service.engine.answer(request.question, history).to_dict()
        except QuestionError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @router.get(
        "/healthz",
        summary="Readiness and index size",
        responses={503: {"description": "Not ready: the index is being built (or failed)."}},
    )
    def healthz() -> JSONResponse:
        status = service.status()
        return JSONResponse(status, status_code=200 if status["ready"] else 503)

    return router
