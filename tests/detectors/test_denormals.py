"""Subnormals are flushed only inside `flushed_denormals()`, on the calling thread, and the
thread's flags come back after it (the age network runs ~10x slower on Intel without it)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from amparo.signals.classifiers import denormals

TINY = np.float32(1e-38)  # the smallest normal float32 is 1.18e-38: a quarter of this is subnormal


def _quarter() -> float:
    return float(TINY * np.float32(0.25))


def test_subnormals_are_zero_inside_and_back_after() -> None:
    if not denormals.available():
        pytest.skip("not x86-64 Linux with glibc: flushed_denormals is a no-op here")
    assert _quarter() > 0.0
    with denormals.flushed_denormals():
        assert _quarter() == 0.0
        with denormals.flushed_denormals():  # nested: still flushed, and the outer one restores
            assert _quarter() == 0.0
        assert _quarter() == 0.0
    assert _quarter() > 0.0


def test_flags_come_back_when_the_body_raises_and_stay_on_this_thread() -> None:
    if not denormals.available():
        pytest.skip("not x86-64 Linux with glibc: flushed_denormals is a no-op here")
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
    assert seen and seen[0] > 0.0  # another thread was never affected
    assert _quarter() > 0.0
