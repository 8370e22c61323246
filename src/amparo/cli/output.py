"""How CLI verbs print: JSON lines for machines (--json), short text for people; errors to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import typer

from amparo.errors import AmparoError


def emit(obj: Any, *, as_json: bool, text: str | None = None) -> None:
    if as_json or text is None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)


def inputs(args: list[str]) -> Iterator[str]:
    """Arguments, where `-` means one input per line on stdin."""
    for a in args:
        if a == "-":
            for line in sys.stdin:
                line = line.rstrip("\n")
                if line:
                    yield line
        else:
            yield a


def error_result(source: str, e: AmparoError) -> dict[str, Any]:
    return {"input": source, "error": {"code": e.code, "message": e.message}}
