"""Malformed input that only shows itself deep down becomes a clear 4xx, never a 500.

The routes validate what they can; these handlers catch what surfaces later, at the database driver
or a parser: integers past 64 bits, NUL bytes (PostgreSQL text), lone surrogates (not encodable as
UTF-8), values longer than their column, CSV fields over the parser's limit, numbers that are not
numbers. Each such error is raised inside a transaction that is rolled back, so nothing changes.
A 500 would also drop the keep-alive connection; these answers keep it.

The log's echo of user input is capped: statement parameters are never rendered (the engine runs with
hide_parameters) and messages and exception texts are cut to LOG_ECHO_CHARS."""

from __future__ import annotations

import csv
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

log = logging.getLogger("amparo.api")

LOG_ECHO_CHARS = 200
CAPPED_LOGGERS = ("amparo.api", "uvicorn.error", "uvicorn.access")


def _body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _answer(request: Request, exc: Exception, code: str, message: str) -> JSONResponse:
    log.info("refused %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    return JSONResponse(_body(code, message), status_code=400)


def install_input_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return _answer(request, exc, "out_of_range", "a number in the request is out of range")

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError) -> JSONResponse:
        # PostgreSQL: NUL in text, integer out of range, value too long for its column, ...
        return _answer(
            request, exc, "bad_value", "a value in the request cannot be stored (too long, out of range or a NUL byte)"
        )

    @app.exception_handler(UnicodeError)
    async def bad_unicode(request: Request, exc: UnicodeError) -> JSONResponse:
        return _answer(
            request, exc, "bad_text", "the request has text that is not valid Unicode (e.g. lone surrogates)"
        )

    @app.exception_handler(csv.Error)
    async def bad_csv(request: Request, exc: csv.Error) -> JSONResponse:
        return _answer(request, exc, "bad_csv", f"the CSV is malformed ({str(exc)[:LOG_ECHO_CHARS]})")

    @app.exception_handler(ValueError)
    async def bad_value(request: Request, exc: ValueError) -> JSONResponse:
        # A value a route converted itself (float("lots"), int(...), a model validated by hand).
        return _answer(request, exc, "bad_value", "a value in the request is malformed")

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return _answer(request, exc, "too_deep", "the request is nested too deeply")


class EchoCap(logging.Filter):
    """Cuts a record's message, and the text of its exception, to LOG_ECHO_CHARS per line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is passed on as it is
            return True
        record.msg, record.args = _cap_lines(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = _cap_lines(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _cap_lines(text: str) -> str:
    return "\n".join(
        line if len(line) <= LOG_ECHO_CHARS else line[:LOG_ECHO_CHARS] + f"... [{len(line)} chars]"
        for line in text.splitlines()
    )


def install_log_echo_cap() -> None:
    for name in CAPPED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, EchoCap) for f in logger.filters):
            logger.addFilter(EchoCap())
