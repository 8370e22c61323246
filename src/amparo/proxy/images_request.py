"""Parse and validate OpenAI images requests (JSON generations, multipart edits).

Every failure is a RequestRejected with the OpenAI-style `param` and `code`, never a crash.
Fields the proxy does not interpret are forwarded only when they are short scalars with plain
names (no nested objects smuggled to the upstream)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.datastructures import FormData, UploadFile

from amparo.content.mime import sniff_image_mime
from amparo.proxy.openai_errors import RequestRejected

Operation = Literal["generation", "edit"]
RESPONSE_FORMATS = ("url", "b64_json")
MAX_N = 10
MAX_INPUT_IMAGES = 4
MAX_FORWARDED_FIELDS = 32
MAX_FIELD_CHARS = 200
# Fields the proxy decides itself: never forwarded as the caller sent them.
OWN_FIELDS = frozenset(
    {
        "prompt",
        "response_format",
        "user",
        "safety_identifier",
        "stream",
        "partial_images",
        "image",
        "image[]",
        "mask",
        "n",
    }
)
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
INPUT_MIME_TYPES = ("image/png", "image/jpeg", "image/webp")


@dataclass(frozen=True)
class InputImage:
    data: bytes
    filename: str
    mime: str


@dataclass
class ImagesRequest:
    operation: Operation
    prompt: str
    n: int = 1
    response_format: str = "b64_json"
    user: str | None = None
    forward: dict[str, Any] = field(default_factory=dict)  # model, size, quality, ... as sent
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None

    @property
    def model(self) -> str | None:
        m = self.forward.get("model")
        return str(m) if m is not None else None


def _prompt(value: Any, max_chars: int) -> str:
    if value is None:
        raise RequestRejected("'prompt' is a required property", param="prompt", code="missing_required_parameter")
    if not isinstance(value, str):
        raise RequestRejected("'prompt' must be a string", param="prompt", code="invalid_type")
    if not value.strip():
        raise RequestRejected("'prompt' must not be empty", param="prompt", code="empty_string")
    if len(value) > max_chars:
        raise RequestRejected(
            f"'prompt' is {len(value)} characters; the maximum is {max_chars}",
            param="prompt",
            code="string_above_max_length",
        )
    return value


def _n(value: Any) -> int:
    if value is None or value == "":
        return 1
    try:
        n = int(value)
        if isinstance(value, bool) or (isinstance(value, float) and n != value):
            raise ValueError
    except (TypeError, ValueError):
        raise RequestRejected("'n' must be an integer", param="n", code="invalid_type") from None
    if not 1 <= n <= MAX_N:
        raise RequestRejected(f"'n' must be between 1 and {MAX_N}", param="n", code="integer_out_of_range")
    return n


def _response_format(value: Any) -> str:
    if value is None or value == "":
        return "b64_json"
    if value not in RESPONSE_FORMATS:
        raise RequestRejected(
            "'response_format' must be 'url' or 'b64_json'",
            param="response_format",
            code="invalid_value",
        )
    return str(value)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    v = body.get(name)
    if v is None or v == "":
        return None
    if not isinstance(v, str) or len(v) > MAX_FIELD_CHARS:
        raise RequestRejected(
            f"'{name}' must be a string of at most {MAX_FIELD_CHARS} characters",
            param=name,
            code="invalid_value",
        )
    return v


def _stream(value: Any) -> None:
    if value in (True, "true", "True", "1"):
        raise RequestRejected("streaming is not supported by this endpoint", param="stream", code="unsupported_value")


def _forwarded(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in body.items():
        if k in OWN_FIELDS or v is None:
            continue
        if not _FIELD_NAME.match(k):
            raise RequestRejected(f"unknown parameter {k[:40]!r}", param=k[:40], code="unknown_parameter")
        if not isinstance(v, str | int | float | bool) or (isinstance(v, str) and len(v) > MAX_FIELD_CHARS):
            raise RequestRejected(f"'{k}' must be a short string, number or boolean", param=k, code="invalid_type")
        out[k] = v
    if len(out) > MAX_FORWARDED_FIELDS:
        raise RequestRejected("too many parameters", code="invalid_request")
    return out


def parse_generation_json(raw: bytes, *, max_prompt_chars: int) -> ImagesRequest:
    if not raw.strip():
        raise RequestRejected("the request body is empty; send a JSON object", code="invalid_json")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RequestRejected("the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise RequestRejected("the request body must be a JSON object", code="invalid_json")
    _stream(body.get("stream"))
    return ImagesRequest(
        operation="generation",
        prompt=_prompt(body.get("prompt"), max_prompt_chars),
        n=_n(body.get("n")),
        response_format=_response_format(body.get("response_format")),
        user=_optional_str(body, "user") or _optional_str(body, "safety_identifier"),
        forward=_forwarded(body),
    )


def _read_file(upload: Any, name: str, limit: int) -> InputImage:
    if not isinstance(upload, UploadFile):
        raise RequestRejected(f"'{name}' must be a file upload", param=name, code="invalid_type")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise RequestRejected(
            f"'{name}' is larger than the limit of {limit} bytes",
            param=name,
            code="image_too_large",
            status=413,
        )
    if not data:
        raise RequestRejected(f"'{name}' is empty", param=name, code="invalid_image")
    mime = sniff_image_mime(data)
    if mime is None:
        raise RequestRejected(f"'{name}' must be a PNG, JPEG or WEBP image", param=name, code="invalid_image_format")
    return InputImage(data=data, filename=(upload.filename or name)[:200], mime=mime)


def parse_edit_form(form: FormData, *, max_prompt_chars: int, max_image_bytes: int) -> ImagesRequest:
    uploads = [*form.getlist("image"), *form.getlist("image[]")]
    if not uploads:
        raise RequestRejected("'image' is a required property", param="image", code="missing_required_parameter")
    if len(uploads) > MAX_INPUT_IMAGES:
        raise RequestRejected(f"at most {MAX_INPUT_IMAGES} input images", param="image", code="too_many_images")
    images = [_read_file(u, "image", max_image_bytes) for u in uploads]
    mask_upload = form.get("mask")
    mask = _read_file(mask_upload, "mask", max_image_bytes) if mask_upload not in (None, "") else None
    fields: dict[str, Any] = {}
    for k, v in form.multi_items():
        if k in ("image", "image[]", "mask"):
            continue
        if isinstance(v, UploadFile):
            raise RequestRejected(f"unexpected file in field {k[:40]!r}", param=k[:40], code="invalid_type")
        if k in fields:
            raise RequestRejected(f"field {k[:40]!r} given twice", param=k[:40], code="invalid_value")
        fields[k] = v
    _stream(fields.get("stream"))
    return ImagesRequest(
        operation="edit",
        prompt=_prompt(fields.get("prompt"), max_prompt_chars),
        n=_n(fields.get("n")),
        response_format=_response_format(fields.get("response_format")),
        user=_optional_str(fields, "user") or _optional_str(fields, "safety_identifier"),
        forward=_forwarded(fields),
        images=images,
        mask=mask,
    )
