"""The request gate as a text detector of the pipeline (stage "prompt")."""

from __future__ import annotations

import time
from typing import Any

from amparo.domain.signals import Classification

NAME = "prompt_gate"
STAGE = "prompt"


class PromptGateDetector:
    name = NAME
    stage = STAGE

    def __init__(self, max_chars: int = 4000) -> None:
        from amparo.signals.classifiers.prompt.gate import PromptGate

        self._gate = PromptGate.load(max_chars=max_chars)

    def classify_text(self, text: str) -> Classification:
        t0 = time.perf_counter()
        analysis = self._gate.analyse(text)  # TooLarge/BadInput propagate: the caller refuses the input
        return to_classification(analysis, (time.perf_counter() - t0) * 1000)


def to_classification(analysis: Any, elapsed_ms: float = 0.0) -> Classification:
    d = analysis.to_dict()
    return Classification(
        detector=NAME,
        stage=STAGE,
        scores=dict(analysis.scores),
        details={k: v for k, v in d.items() if k != "scores"},
        elapsed_ms=elapsed_ms,
    )
