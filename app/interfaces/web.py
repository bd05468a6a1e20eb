"""`python -m app serve`: the chat page and the HTTP API on one FastAPI server.

The server answers at once, even on a first run: the index builds in a
background thread while the page shows its progress and `/healthz` says
"not ready", instead of the browser waiting on a frozen connection.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from app.config import Settings, get_settings
from app.interfaces.service import Service


def create_app(settings: Settings, engine: Any = None, slack: bool = False):
    """The FastAPI app: `/api/ask`, `/healthz`, `/docs`, the chat page at `/`, and with
    `slack` the bot's `/slack/events`.

    The index warm-up starts with the app (its lifespan), so a test client or
    uvicorn gets a responsive server straight away.
    """
    import gradio as gr
    from fastapi import FastAPI

    from app.interfaces.upload_guard import UploadGuard
    from app.interfaces.web_api import build_router
    from app.interfaces.web_ui import CSS_FILE, JS_FILE, ChatUI, theme
    from app.uploads import ALLOWED_SUFFIXES

    if engine is None and slack:  # the bot and the page must share one engine
        from app.engine import Engine

        engine = Engine(settings)
    service = Service(settings, engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield
        service.stop()

    app = FastAPI(
        title="newsqa",
        description="Cited answers over Arabic news articles. The chat page is at `/`.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.include_router(build_router(service))
    if slack:  # Slack's HTTP events on this server too, sharing the engine
        from app.interfaces.slack import fastapi_router

        app.include_router(fastapi_router(settings, service.engine))
    app.add_middleware(
        UploadGuard,
        max_files=settings.max_upload_files,
        max_file_bytes=settings.max_upload_bytes,
        suffixes=ALLOWED_SUFFIXES,
    )
    demo = ChatUI(service).build()
    gr.mount_gradio_app(
        app,
        demo,
        path="/",
        theme=theme(),
        css_paths=[CSS_FILE],
        js=JS_FILE.read_text(encoding="utf-8"),
        max_file_size=settings.max_upload_bytes,
        footer_links=[],  # the header links to /docs, the API programs should use
        run_history=False,
        ssr_mode=False,
    )
    # Gradio refuses an event's file paths that its upload endpoint did not store only once
    # the Blocks has "launched", which a mounted app never does: without this, a request
    # naming any readable server file has Gradio copy it in for the upload handler.
    demo.has_launched = True
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app serve", description="Chat in the browser and the HTTP API."
    )
    parser.add_argument("--host", help="address to listen on (default: NEWSQA_HOST)")
    parser.add_argument("--port", type=int, help="port (default: NEWSQA_PORT)")
    parser.add_argument("--corpus", type=Path, help="articles folder (default: NEWSQA_CORPUS_DIR)")
    parser.add_argument("--index", type=Path, help="index folder (default: NEWSQA_INDEX_DIR)")
    parser.add_argument("--slack", action="store_true",
                        help="also serve the Slack bot's HTTP events at /slack/events (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until interrupted; the index builds in the background on a first run."""
    import uvicorn

    args = build_parser().parse_args(list(argv or []))
    overrides = {
        key: value
        for key, value in (
            ("host", args.host),
            ("port", args.port),
            ("corpus_dir", args.corpus),
            ("index_dir", args.index),
        )
        if value is not None
    }
    settings = get_settings().model_copy(update=overrides)
    try:
        app = create_app(settings, slack=args.slack)
    except ValueError as exc:  # the Slack configuration, named by its variable
        print(f"newsqa: {exc}", file=sys.stderr)
        return 2
    print(f"newsqa: open http://{settings.host}:{settings.port}/ (API docs at /docs)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
