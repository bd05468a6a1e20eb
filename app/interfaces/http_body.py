"""Request bodies read up to a limit: a larger one is refused with 413 before it is in memory.

A route built with `bounded_route(limit)` as its router's `route_class` reads
the body FastAPI parses through `BoundedRequest.body`: a declared
`Content-Length` over the limit is refused before reading, and a body sent
without one (chunked) is refused as soon as it passes the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope


def too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"the request body is over the limit of {limit:,} bytes")


class BoundedRequest(Request):
    """A request whose `body()` stops reading past `limit` bytes."""

    def __init__(self, scope: Scope, receive: Receive, limit: int) -> None:
        super().__init__(scope, receive)
        self.limit = limit

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.limit:
                raise too_large(self.limit)
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > self.limit:
                    raise too_large(self.limit)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body


def bounded_route(limit: int) -> type[APIRoute]:
    """An `APIRoute` class whose handlers read at most `limit` bytes of body."""

    class BoundedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def bounded(request: Request) -> Response:
                return await handler(BoundedRequest(request.scope, request.receive, limit))

            return bounded

    return BoundedRoute
