"""The client for the image generator behind the proxy (any OpenAI-images-compatible API).

The upstream base URL is an OpenAI-style base (e.g. https://api.openai.com/v1); requests go to
<base>/images/generations and <base>/images/edits. The upstream key is sent only to the
upstream, as a bearer token; it is never logged and nothing the upstream says is echoed to
the caller (upstream error texts can quote the key). `response_format` is not forwarded (GPT
image models reject it); both `b64_json` and `url` answers are accepted, and URLs are fetched
here with the same size and time limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from amparo.proxy.images_request import ImagesRequest
from amparo.proxy.openai_errors import (
    API_ERROR,
    INVALID_REQUEST,
    RATE_LIMIT,
    ContentPolicyRefusal,
    UpstreamFailure,
)

log = logging.getLogger(__name__)

MAX_RESPONSE_OVERHEAD = 1024 * 1024
_SAFE_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class UpstreamImage:
    data: bytes
    revised_prompt: str | None = None


@dataclass(frozen=True)
class UpstreamResult:
    images: list[UpstreamImage]
    elapsed_s: float  # wall time spent waiting for the upstream (the bench subtracts it)
    created: int | None = None


class UpstreamClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        timeout_s: float,
        max_image_bytes: int,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.max_image_bytes = max_image_bytes
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False, transport=transport)

    def __repr__(self) -> str:  # never print the key
        return f"UpstreamClient({self.base_url!r})"

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        h = {"Accept": "application/json", "User-Agent": "amparo-proxy/0.1"}
        if self._api_key:
            h["Authorization"] = f"Bearer {self._api_key}"
        return h

    def _limit(self, n: int) -> int:
        # base64 inflates by 4/3; allow every image at the limit plus JSON overhead
        return (self.max_image_bytes * 4 // 3 + 1024) * n + MAX_RESPONSE_OVERHEAD

    def generate(self, req: ImagesRequest, *, user: str | None) -> UpstreamResult:
        body: dict[str, Any] = {**req.forward, "prompt": req.prompt, "n": req.n}
        if user:
            body["user"] = user
        return self._call("images/generations", req.n, json=body)

    def edit(self, req: ImagesRequest, *, user: str | None) -> UpstreamResult:
        data: dict[str, str] = {k: _form_value(v) for k, v in req.forward.items()}
        data["prompt"] = req.prompt
        data["n"] = str(req.n)
        if user:
            data["user"] = user
        files: list[tuple[str, tuple[str, bytes, str]]] = []
        field = "image" if len(req.images) == 1 else "image[]"
        for img in req.images:
            files.append((field, (img.filename, img.data, img.mime)))
        if req.mask is not None:
            files.append(("mask", (req.mask.filename, req.mask.data, req.mask.mime)))
        return self._call("images/edits", req.n, data=data, files=files)

    def _call(self, path: str, n: int, **kw: Any) -> UpstreamResult:
        url = f"{self.base_url}/{path}"
        limit = self._limit(n)
        t0 = time.perf_counter()
        try:
            with self._client.stream("POST", url, headers=self._headers(), **kw) as resp:
                raw = _read_capped(resp, limit)
                status = resp.status_code
            if status >= 400:
                _raise_for_status(status, raw)
            images = self._images(raw)
        except httpx.TimeoutException:
            log.warning("upstream %s timed out after %.1f s", path, self.timeout_s)
            raise UpstreamFailure(
                "the image generator did not answer in time", code="upstream_timeout", status=504
            ) from None
        except httpx.HTTPError as e:
            log.warning("upstream %s unreachable: %s", path, e.__class__.__name__)
            raise UpstreamFailure("the image generator could not be reached", code="upstream_unavailable") from None
        return UpstreamResult(images=images, elapsed_s=time.perf_counter() - t0)

    def _images(self, raw: bytes) -> list[UpstreamImage]:
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise _garbage("the answer is not JSON") from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise _garbage("the answer has no images")
        out: list[UpstreamImage] = []
        for entry in data:
            if not isinstance(entry, dict):
                raise _garbage("an image entry is not an object")
            revised = entry.get("revised_prompt")
            revised = revised if isinstance(revised, str) and len(revised) <= 4000 else None
            if isinstance(entry.get("b64_json"), str):
                try:
                    img = base64.b64decode(entry["b64_json"], validate=True)
                except (binascii.Error, ValueError):
                    raise _garbage("an image is not valid base64") from None
            elif isinstance(entry.get("url"), str) and entry["url"].startswith(("http://", "https://")):
                img = self._fetch(entry["url"])
            else:
                raise _garbage("an image entry has neither b64_json nor url")
            if not img:
                raise _garbage("an image is empty")
            if len(img) > self.max_image_bytes:
                raise UpstreamFailure(
                    "the image generator returned an image over the size limit",
                    code="upstream_invalid_response",
                )
            out.append(UpstreamImage(img, revised))
        return out

    def _fetch(self, url: str) -> bytes:
        with self._client.stream("GET", url, headers={"User-Agent": "amparo-proxy/0.1"}) as resp:
            raw = _read_capped(resp, self.max_image_bytes)
            if resp.status_code != 200:
                raise _garbage(f"an image URL answered HTTP {resp.status_code}")
        return raw


def _form_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _read_capped(resp: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise UpstreamFailure(
                "the image generator's answer is larger than allowed",
                code="upstream_invalid_response",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _garbage(why: str) -> UpstreamFailure:
    log.warning("upstream answered garbage: %s", why)
    return UpstreamFailure("the image generator returned an invalid response", code="upstream_invalid_response")


def _upstream_code(raw: bytes) -> str | None:
    """The upstream's error code if it is a plain token; its message is never used."""
    try:
        err = json.loads(raw).get("error")
        code = err.get("code") if isinstance(err, dict) else None
    except (ValueError, AttributeError, RecursionError, UnicodeDecodeError):
        return None
    return code if isinstance(code, str) and _SAFE_CODE.match(code) else None


def _raise_for_status(status: int, raw: bytes) -> None:
    code = _upstream_code(raw)
    log.warning("upstream answered HTTP %d (code %s)", status, code or "-")
    if code == "content_policy_violation" or code == "moderation_blocked":
        raise ContentPolicyRefusal(
            "the image generator refused this request under its content policy", stage="upstream"
        )
    if status == 429:
        raise UpstreamFailure(
            "the image generator is busy; try again later",
            code="rate_limit_exceeded",
            status=429,
            error_type=RATE_LIMIT,
        )
    if status in (401, 403):
        raise UpstreamFailure(
            "the proxy could not authenticate to the image generator",
            code="upstream_auth_failed",
            error_type=API_ERROR,
        )
    if 400 <= status < 500:  # usually a parameter the caller chose (size, model, quality)
        raise UpstreamFailure(
            f"the image generator rejected the request's parameters (HTTP {status}" + (f", {code})" if code else ")"),
            code="upstream_rejected",
            status=400,
            error_type=INVALID_REQUEST,
        )
    raise UpstreamFailure(f"the image generator failed (HTTP {status})", code="upstream_error")
