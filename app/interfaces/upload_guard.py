"""Limits on Gradio's own file endpoint (`/gradio_api/upload`), which has no settings for them.

Gradio stores whatever that endpoint receives (any type, up to 1000 files in one
request) in its upload folder before any event handler runs; it only enforces a
size per file (`max_file_size`). This ASGI middleware reads such a request
first, into a spooled temporary file bounded by the size of `max_files` files,
and checks as it goes that it names at most `max_files` files, each with an
allowed suffix. Only then is the body handed on to Gradio; a refused request
gets a one-line 4xx and leaves nothing on disk.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PATH = "/gradio_api/upload"  # Gradio's endpoint, with the page mounted at "/"
_PART_OVERHEAD = 16_384  # multipart boundary and headers allowed per file
_CHUNK = 65_536


class Refused(Exception):
    """Why a request was turned away: an HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class _FileParts:
    """Counts the file parts of a multipart body as it streams by, checking each name.

    A part is a file when its Content-Disposition has a `filename`, the same rule
    Gradio's own parser applies, so what is counted here is what Gradio would store.
    """

    def __init__(self, boundary: bytes, max_files: int, suffixes: Sequence[str]) -> None:
        self.max_files, self.suffixes, self.files = max_files, tuple(suffixes), 0
        self._name, self._value, self._disposition = b"", b"", b""
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._begin,
                "on_header_field": lambda data, start, end: self._add("_name", data[start:end]),
                "on_header_value": lambda data, start, end: self._add("_value", data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
            },
        )

    def write(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise Refused(400, f"not a valid multipart upload ({exc})") from None

    def _add(self, attribute: str, data: bytes) -> None:
        setattr(self, attribute, getattr(self, attribute) + data)

    def _begin(self) -> None:
        self._disposition = b""

    def _header_end(self) -> None:
        if self._name.lower() == b"content-disposition":
            self._disposition = self._value
        self._name, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"filename" not in options:
            return
        self.files += 1
        if self.files > self.max_files:
            raise Refused(413, f"too many files: at most {self.max_files} per upload")
        name = Path(options[b"filename"].decode("utf-8", "replace").replace("\\", "/")).name
        if Path(name).suffix.lower() not in self.suffixes:
            raise Refused(415, f"{name}: only {', '.join(self.suffixes)} files can be uploaded")


class UploadGuard:
    """ASGI middleware: a POST to `UPLOAD_PATH` reaches Gradio only within the limits.

    `max_file_bytes` bounds the whole body (times `max_files`); Gradio itself
    still refuses any single file over its `max_file_size`.
    """

    def __init__(self, app: ASGIApp, *, max_files: int, max_file_bytes: int, suffixes: Sequence[str]) -> None:
        self.app = app
        self.max_files, self.suffixes = max_files, tuple(suffixes)
        self.max_body = max_files * (max_file_bytes + _PART_OVERHEAD)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != UPLOAD_PATH:
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=1_000_000) as body:
            try:
                size = await self._read_checked(scope, receive, body)
            except Refused as refused:
                await _reply(send, refused.status, refused.reason)
                return
            body.seek(0)
            await self.app(scope, _replay(body, size, receive), send)

    async def _read_checked(self, scope: Scope, receive: Receive, body: IO[bytes]) -> int:
        """Copy the request body into `body`, refusing it as soon as it breaks a limit."""
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")  # uvicorn has checked it is a number
        if declared.isdigit() and int(declared) > self.max_body:  # refused before reading any of it
            raise Refused(413, f"upload too large: at most {self.max_files} files per upload")
        kind, params = parse_options_header(headers.get(b"content-type", b""))
        if kind != b"multipart/form-data" or not params.get(b"boundary"):
            raise Refused(400, "an upload must be multipart/form-data")
        parts = _FileParts(params[b"boundary"], self.max_files, self.suffixes)
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "the upload was interrupted")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise Refused(413, f"upload too large: at most {self.max_files} files per upload")
            parts.write(chunk)
            body.write(chunk)
            if not message.get("more_body", False):
                return size


def _replay(body: IO[bytes], size: int, receive: Receive) -> Receive:
    """A `receive` that hands the checked body on in chunks, then listens to the client again."""
    sent, done = 0, False

    async def replayed() -> Message:
        nonlocal sent, done
        if done:
            return await receive()  # after the body: a disconnect, when it comes
        chunk = body.read(_CHUNK)
        sent += len(chunk)
        done = sent >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replayed


async def _reply(send: Send, status: int, reason: str) -> None:
    data = (reason + "\n").encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
