"""Signal type interfaces. Each type has an explicit, stable `name` that is stored; never a class name."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from amparo.content.images import DecodedImage
from amparo.domain.signals import Classification, Signal


@runtime_checkable
class ImageHasher(Protocol):
    """Hashes image bytes (exact hashes) or decoded pixels (perceptual hashes)."""

    name: str
    #: "exact" (lookup by equality) or "hamming" (distance search over fixed-width bit strings)
    match_kind: str

    def hash_bytes(self, data: bytes) -> Signal | None: ...

    def hash_image(self, image: DecodedImage, data: bytes) -> Signal | None: ...

    def normalise(self, value: str) -> str:
        """Validate and canonicalise a stored/queried value; raise BadInput if malformed."""
        ...


@runtime_checkable
class ImageDetector(Protocol):
    """A classifier over a decoded image. `stage` places it in the cascade."""

    name: str
    stage: str  # "nudity" | "faces_age" | "provenance" | other custom stage names

    def classify(self, image: DecodedImage, data: bytes) -> Classification: ...


@runtime_checkable
class TextDetector(Protocol):
    name: str

    def classify_text(self, text: str) -> Classification: ...
