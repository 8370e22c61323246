"""Subnormals are flushed only inside `flushed_denormals()`, on the calling thread, and the
thread's flags come back after it (the age network runs ~10x slower on Intel without it)."""

from __future__ import annotations

import platform
import sys
import threading

import numpy as np
import pytest

from amparo.signals.classifiers import denormals
from amparo.signals.classifiers.single_thread import FlushingSession

TINY = np.float32(1e-38)  # the smallest normal float32 is 1.18e-38: a quarter of this is subnormal
SUBNORMAL = float(np.float32(1e-38) * np.float32(0.25))


def _quarter() -> float:
    return float(TINY * np.float32(0.25))


def test_available_exactly_where_the_flags_exist() -> None:
    assert denormals.available() == (sys.platform == "linux" and platform.machine() in ("x86_64", "AMD64"))


def test_subnormals_are_zero_inside_and_back_after() -> None:
    inside = 0.0 if denormals.available() else SUBNORMAL  # elsewhere the context changes nothing
    assert SUBNORMAL > 0.0 and _quarter() == SUBNORMAL
    with denormals.flushed_denormals():
        assert _quarter() == inside
        with denormals.flushed_denormals():  # nested: still flushed, and the outer one restores
            assert _quarter() == inside
        assert _quarter() == inside
    assert _quarter() == SUBNORMAL


def test_flags_come_back_when_the_body_raises_and_stay_on_this_thread() -> None:
    seen: list[float] = []
    go = threading.Event()

    def other_thread() -> None:  # a thread already running (a new one inherits the flags)
        go.wait(10)
        seen.append(_quarter())

    other = threading.Thread(target=other_thread)
    other.start()
    with pytest.raises(RuntimeError), denormals.flushed_denormals():
        go.set()
        other.join()
        raise RuntimeError("model failed")
    assert seen == [SUBNORMAL]  # another thread was never affected
    assert _quarter() == SUBNORMAL


def test_sessions_run_flushed_and_keep_the_rest_of_their_interface() -> None:
    class Session:
        name = "age"

        def run(self, outputs: object, feeds: dict[str, float]) -> list[float]:
            return [float(np.float32(feeds["x"]) * np.float32(0.25))]

    flushing = FlushingSession(Session())
    assert flushing.name == "age"
    assert flushing.run(None, {"x": float(TINY)}) == [0.0 if denormals.available() else SUBNORMAL]
    assert _quarter() == SUBNORMAL
