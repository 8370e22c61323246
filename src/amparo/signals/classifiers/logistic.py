"""Logistic regression pieces shared by the age calibration (Platt's curve) and the minor head."""

from __future__ import annotations

import numpy as np

LOGIT_CLIP = 1e-4  # keeps logit(0) and logit(1) finite


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(np.exp(-np.logaddexp(0.0, -z)))


def logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, LOGIT_CLIP, 1.0 - LOGIT_CLIP)
    return np.asarray(np.log(q / (1.0 - q)))


def newton_logistic(
    design: np.ndarray,
    targets: np.ndarray,
    ridge: np.ndarray,
    *,
    start: np.ndarray | None = None,
    jitter: float = 0.0,
    iterations: int = 50,
    tolerance: float = 1e-9,
) -> np.ndarray:
    """Weights minimising the log loss of sigmoid(design @ w) against `targets` (0..1) plus
    sum(ridge * w^2) / 2, by Newton's method; `jitter` only keeps the Hessian invertible."""
    w = np.zeros(design.shape[1]) if start is None else np.array(start, dtype=np.float64)
    for _ in range(iterations):
        p = sigmoid(design @ w)
        grad = design.T @ (p - targets) + ridge * w
        hess = design.T @ (design * (p * (1.0 - p))[:, None]) + np.diag(ridge + jitter)
        step = np.linalg.solve(hess, grad)
        w = w - step
        if float(np.abs(step).max()) < tolerance:
            break
    return w
