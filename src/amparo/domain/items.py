"""What the pipeline checks: an Item (image, prompt, or edit request) and its context."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ItemKind(StrEnum):
    IMAGE = "image"
    PROMPT = "prompt"
    EDIT_REQUEST = "edit_request"  # prompt + input image
    GENERATED_IMAGE = "generated_image"  # an output of an image generator
    VIDEO = "video"  # an uploaded video (its bytes travel in Item.image)


@dataclass(frozen=True)
class Context:
    """Who and where: the policy reads these; nothing here is required."""

    account: str | None = None
    surface: str | None = None  # e.g. "upload", "generation", "edit", "scan"
    jurisdiction: str | None = None  # policy profile name, e.g. "eu-es", "us"
    source: str | None = None  # file path, URL or upload name, for the record
    extra: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "account": self.account,
            "surface": self.surface,
            "jurisdiction": self.jurisdiction,
            "source": self.source,
        }
        if self.extra:
            d["extra"] = dict(self.extra)
        return d


@dataclass(frozen=True)
class Item:
    kind: ItemKind
    image: bytes | None = None
    text: str | None = None
    context: Context = field(default_factory=Context)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @staticmethod
    def from_image(data: bytes, context: Context | None = None) -> Item:
        return Item(kind=ItemKind.IMAGE, image=data, context=context or Context())

    @staticmethod
    def from_video(data: bytes, context: Context | None = None) -> Item:
        return Item(kind=ItemKind.VIDEO, image=data, context=context or Context())

    @staticmethod
    def from_prompt(text: str, context: Context | None = None) -> Item:
        return Item(kind=ItemKind.PROMPT, text=text, context=context or Context())

    @staticmethod
    def from_edit(text: str, image: bytes, context: Context | None = None) -> Item:
        return Item(kind=ItemKind.EDIT_REQUEST, text=text, image=image, context=context or Context())

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.image).hexdigest() if self.image is not None else None
