"""Whether a face can be aged at all: size, sharpness and pose, measured cheaply.

An age read off a 15 px face, a motion-blurred face or a profile is a guess; the stage reports
such faces as `minor: null` (unsure) so the policy sends them to a person instead of deciding.

- `size_px`: the face box's shorter side in original pixels;
- `blur`: variance of the 4-neighbour Laplacian of the aligned 64x64 grey chip (the chip has
  the same scale for every face, so the figure compares across image sizes); low = blurred;
- `yaw`: the nose's offset from the eyes' midpoint along the eye line, in inter-eye distances
  (0 frontal, ~0.5 and more for a strongly turned head), from dlib's 5 landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Limits beyond which a face is not judged, set on benign sample photos (the labelled set has
# too few bad faces to tune them): the astronaut portrait measures size 94, blur ~1120, yaw 0.00;
# the cameraman's three-quarter view yaw -0.43; the astronaut blurred with a Gaussian of sigma 4
# (512 px photo) blur ~6. See docs/detectors.md.
MIN_SIZE_PX = 24
MIN_BLUR = 30.0
MAX_YAW = 0.5


@dataclass(frozen=True)
class FaceQuality:
    size_px: int
    blur: float
    yaw: float

    @property
    def problems(self) -> list[str]:
        out = []
        if self.size_px < MIN_SIZE_PX:
            out.append("small")
        if self.blur < MIN_BLUR:
            out.append("blurred")
        if abs(self.yaw) > MAX_YAW:
            out.append("turned")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "size_px": self.size_px,
            "blur": round(self.blur, 1),
            "yaw": round(self.yaw, 3),
            "ok": self.ok,
            "problems": self.problems,
        }


def laplacian_variance(chip_rgb: np.ndarray) -> float:
    grey = chip_rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    lap = grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4.0 * grey[1:-1, 1:-1]
    return float(lap.var())


def yaw_from_landmarks(points: np.ndarray) -> float:
    """dlib's 5-point model: 0-1 one eye's corners, 2-3 the other's, 4 below the nose."""
    eye_a, eye_b, nose = points[0:2].mean(axis=0), points[2:4].mean(axis=0), points[4]
    axis = eye_b - eye_a
    dist = float(np.hypot(*axis))
    if dist < 1e-6:
        return 1.0  # degenerate landmarks: treat as unjudgeable
    along = float((nose - (eye_a + eye_b) / 2.0) @ (axis / dist))
    return along / dist


def measure(size_px: int, chip_rgb: np.ndarray, points: np.ndarray) -> FaceQuality:
    return FaceQuality(size_px=size_px, blur=laplacian_variance(chip_rgb), yaw=yaw_from_landmarks(points))
