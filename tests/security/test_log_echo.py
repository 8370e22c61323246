"""Finding 5: the log stored up to 100 KB of user input per failed request."""

from __future__ import annotations

import logging

import httpx
import pytest

from amparo.api.input_errors import LOG_ECHO_CHARS, install_log_echo_cap

LONG = "Z" * 100_000


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def test_messages_and_exception_texts_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    install_log_echo_cap()
    log = logging.getLogger("amparo.api")
    with caplog.at_level(logging.INFO, logger="amparo.api"):
        log.info("refused %s", LONG)
        try:
            float(LONG)  # Python puts the whole input into this error's message
        except ValueError:
            log.exception("unhandled error")
    assert LONG[:1000] not in caplog.text
    assert _longest_line(caplog.text) < LOG_ECHO_CHARS + 100


def test_a_refused_request_leaves_no_long_echo_in_the_log(live_api, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    url, keys = live_api
    body = {"name": "ECHO", "category": "other", "description": "\x00" + LONG}  # PostgreSQL refuses the NUL
    with caplog.at_level(logging.INFO):
        r = httpx.post(f"{url}/v1/banks", json=body, headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=60)
    assert r.status_code < 500
    assert LONG[:1000] not in caplog.text
