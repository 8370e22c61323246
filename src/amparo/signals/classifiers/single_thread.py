"""One compute thread per numeric runtime: ONNX Runtime sessions and bundled OpenMP copies.

Amparo scales by processes, one core each; a runtime that spawns its own thread pool on a
shared core makes every image slower (see docs/detectors.md for the measurements).
"""

from __future__ import annotations

import ctypes
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amparo.errors import DetectorFailed
from amparo.signals.classifiers.denormals import flushed_denormals


def onnx_session(model_path: Path | bytes, *, what: str) -> object:
    """An ONNX Runtime CPU session with one intra-op and one inter-op thread, run sequentially,
    subnormals flushed. `model_path`: a file, or a serialized model built in memory."""
    if isinstance(model_path, Path) and not model_path.is_file():
        raise DetectorFailed(f"{what}: model file {model_path} is missing")
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise DetectorFailed(f"{what}: onnxruntime is not installed ({e})") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # keep ORT's optimiser notes out of the service log
    try:
        source = model_path if isinstance(model_path, bytes) else str(model_path)
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # corrupt or truncated model file
        label = model_path.name if isinstance(model_path, Path) else "the model built in memory"
        raise DetectorFailed(f"{what}: could not load {label}: {e}") from None
    return FlushingSession(session)


class FlushingSession:
    """An ONNX Runtime session whose runs read and write subnormals as zero on the calling thread
    (denormals.py: the age network ran ~10x slower on Intel without it); everything else is the
    session's own."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def run(self, *args: Any, **kwargs: Any) -> Any:
        with flushed_denormals():
            return self._session.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_sha256(path: Path, expected: str, *, what: str) -> None:
    if not path.is_file():
        raise DetectorFailed(f"{what}: model file {path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        raise DetectorFailed(f"{what}: {path.name} has sha256 {actual}, expected {expected}")


def openmp_limiter(libgomp_dir: Path) -> Callable[[], None]:
    """A function that sets OpenMP's thread count to 1 for the calling thread.

    OpenMP's thread count is per thread, so a pipeline worker thread must call it before each
    parallel region; the call costs about a microsecond. Returns a no-op when the wheel bundles
    no libgomp (a build without OpenMP).
    """
    libs = sorted(libgomp_dir.glob("libgomp*.so*")) if libgomp_dir.is_dir() else []
    if not libs:
        return lambda: None
    try:
        gomp = ctypes.CDLL(str(libs[0]))
        set_threads = gomp.omp_set_num_threads
    except (OSError, AttributeError):
        return lambda: None
    set_threads.argtypes = [ctypes.c_int]
    set_threads.restype = None
    return lambda: set_threads(1)
