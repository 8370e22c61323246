"""Parse and validate OpenAI Videos requests: create (multipart as the official client sends it,
or JSON), remix (JSON {prompt}), list parameters and content variants.

Every failure is a RequestRejected with OpenAI's `param` and `code`. Only the documented fields
are accepted (prompt, model, seconds, size, input_reference): anything else is refused rather
than smuggled to the generator. The shape is checked here (seconds a small whole number, size
WIDTHxHEIGHT, model a plain name); the generator judges which values it supports. The reference
must be an uploaded PNG/JPEG/WEBP image: reference objects (`image_url`, `file_id`) would make the
upstream fetch something the gate never saw."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile

from amparo.proxy.images_request import InputImage, _prompt, _read_file
from amparo.proxy.openai_errors import RequestRejected

VARIANTS = ("video", "thumbnail", "spritesheet")
MAX_SECONDS = 60  # longer clips cost the scan proportionally; raise with care
MAX_LIST_LIMIT = 100
FIELDS = ("prompt", "model", "seconds", "size", "input_reference")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
_SIZE = re.compile(r"^([1-9][0-9]{1,4})x([1-9][0-9]{1,4})$")
_VIDEO_ID = re.compile(r"^video_[0-9a-f]{32}$")


@dataclass
class VideoRequest:
    prompt: str
    forward: dict[str, str] = field(default_factory=dict)  # model, seconds, size as sent
    reference: InputImage | None = None

    @property
    def model(self) -> str | None:
        return self.forward.get("model")


def _check_fields(fields: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in fields.items():
        if k not in FIELDS:
            raise RequestRejected(f"unknown parameter {k[:40]!r}", param=k[:40], code="unknown_parameter")
        if k in ("prompt", "input_reference") or v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise RequestRejected(f"'{k}' must be a string", param=k, code="invalid_type")
        out[k] = str(v)
    if "model" in out and not _MODEL.match(out["model"]):
        raise RequestRejected("'model' is not a valid model name", param="model", code="invalid_value")
    if "seconds" in out and not (out["seconds"].isdigit() and 1 <= int(out["seconds"]) <= MAX_SECONDS):
        raise RequestRejected(
            f"'seconds' must be a whole number of seconds from 1 to {MAX_SECONDS}",
            param="seconds",
            code="invalid_value",
        )
    if "size" in out and not _SIZE.match(out["size"]):
        raise RequestRejected("'size' must be WIDTHxHEIGHT, e.g. 1280x720", param="size", code="invalid_value")
    return out


def parse_create_form(form: FormData, *, max_prompt_chars: int, max_image_bytes: int) -> VideoRequest:
    fields: dict[str, Any] = {}
    reference: InputImage | None = None
    for k, v in form.multi_items():
        if k in fields or (k == "input_reference" and reference is not None):
            raise RequestRejected(f"field {k[:40]!r} given twice", param=k[:40], code="invalid_value")
        if k == "input_reference":
            if not isinstance(v, UploadFile):
                raise RequestRejected(
                    "'input_reference' must be an uploaded image file (reference URLs and file ids are not accepted)",
                    param="input_reference",
                    code="unsupported_value",
                )
            reference = _read_file(v, "input_reference", max_image_bytes)
            continue
        if isinstance(v, UploadFile):
            raise RequestRejected(f"unexpected file in field {k[:40]!r}", param=k[:40], code="invalid_type")
        fields[k] = v
    forward = _check_fields(fields)
    return VideoRequest(prompt=_prompt(fields.get("prompt"), max_prompt_chars), forward=forward, reference=reference)


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise RequestRejected("the request body is empty; send a JSON object", code="invalid_json")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RequestRejected("the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise RequestRejected("the request body must be a JSON object", code="invalid_json")
    return body


def parse_create_json(raw: bytes, *, max_prompt_chars: int) -> VideoRequest:
    body = _json_object(raw)
    if body.get("input_reference") is not None:
        raise RequestRejected(
            "'input_reference' must be an uploaded image file (send multipart/form-data)",
            param="input_reference",
            code="unsupported_value",
        )
    forward = _check_fields(body)
    return VideoRequest(prompt=_prompt(body.get("prompt"), max_prompt_chars), forward=forward)


def parse_remix_json(raw: bytes, *, max_prompt_chars: int) -> str:
    body = _json_object(raw)
    for k in body:
        if k != "prompt":
            raise RequestRejected(f"unknown parameter {k[:40]!r}", param=k[:40], code="unknown_parameter")
    return _prompt(body.get("prompt"), max_prompt_chars)


def valid_video_id(video_id: str) -> bool:
    return bool(_VIDEO_ID.match(video_id))


def list_params(after: str | None, limit: str | None, order: str | None) -> tuple[str | None, int, str]:
    if after is not None and not valid_video_id(after):
        raise RequestRejected("'after' is not a video id", param="after", code="invalid_value")
    try:
        n = 20 if limit in (None, "") else int(str(limit))
    except ValueError:
        raise RequestRejected("'limit' must be an integer", param="limit", code="invalid_type") from None
    if not 1 <= n <= MAX_LIST_LIMIT:
        raise RequestRejected(
            f"'limit' must be between 1 and {MAX_LIST_LIMIT}", param="limit", code="integer_out_of_range"
        )
    o = order or "desc"
    if o not in ("asc", "desc"):
        raise RequestRejected("'order' must be 'asc' or 'desc'", param="order", code="invalid_value")
    return after, n, o


def variant_param(variant: str | None) -> str:
    v = variant or "video"
    if v not in VARIANTS:
        raise RequestRejected(f"'variant' must be one of {', '.join(VARIANTS)}", param="variant", code="invalid_value")
    return v
