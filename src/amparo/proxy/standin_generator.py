"""A stand-in image generator that speaks the OpenAI images API, for tests and demos.

It draws benign procedural pictures (a gradient sky, hills, circles, rectangles, stripes; never
people) seeded by the SHA-256 of the prompt, so the same prompt gives the same image. Edits blend
a drawing over the input image. Test knobs (`StandinControls`, mutable while it runs):

    mode = "ok" | "timeout" | "error" | "garbage" | "garbage_image" | "content_policy" | "url"
    fixed_image = bytes to return instead of a drawing (e.g. a benign file a stand-in detector
                  scores as abusive, POLICY.md)
    delay_s = seconds to wait before answering (simulated generation time)
    expected_key = the bearer key it requires (401 otherwise, with the key quoted back the way
                   some real APIs do, to prove the proxy never relays upstream messages)

    video_mode, fixed_video, video_render_s, video_fps: the Videos API (standin_video.py)

    uvicorn: build_standin_app(StandinControls())   CLI: `amparo proxy standin --port 9100`
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image, ImageDraw
from starlette.datastructures import UploadFile

from amparo.proxy.standin_video import add_video_routes

MODES = ("ok", "timeout", "error", "garbage", "garbage_image", "content_policy", "url")
DEFAULT_SIZE = (1024, 1024)
MAX_SIDE = 2048
MIN_SIDE = 64
_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")


@dataclass
class StandinControls:
    mode: str = "ok"
    fixed_image: bytes | None = None
    delay_s: float = 0.0
    timeout_s: float = 30.0  # how long "timeout" mode hangs
    expected_key: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # what it received (tests read it)
    # video mode (standin_video.py): the OpenAI Videos API
    video_mode: str = "ok"  # ok | fail | content_policy | garbage_video
    fixed_video: bytes | None = None  # deliver these bytes instead of a drawn clip
    video_render_s: float = 0.5  # a job completes this long after it was created
    video_fps: int = 8


def parse_size(size: Any) -> tuple[int, int]:
    m = _SIZE.match(str(size or ""))
    if not m:
        return DEFAULT_SIZE
    w, h = int(m.group(1)), int(m.group(2))
    return max(MIN_SIDE, min(MAX_SIDE, w)), max(MIN_SIDE, min(MAX_SIDE, h))


def draw_picture(prompt: str, size: tuple[int, int] = DEFAULT_SIZE, *, variant: int = 0) -> Image.Image:
    """A benign drawing seeded by the prompt: gradient sky, hills, shapes. No people."""
    seed = int.from_bytes(hashlib.sha256(f"{variant}:{prompt}".encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    w, h = size
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    sky = (top[None, None, :] * (1 - t) + bottom[None, None, :] * t).astype(np.float32)
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    sky = sky + 40.0 * np.sin(2 * np.pi * (xs * rng.uniform(0.5, 3.0) + rng.uniform()))
    img = Image.fromarray(np.clip(np.broadcast_to(sky, (h, w, 3)), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 4))):  # hills
        base = rng.uniform(0.5, 0.9) * h
        amp, freq, phase = rng.uniform(0.03, 0.15) * h, rng.uniform(1, 4), rng.uniform(0, 6.28)
        pts = [(x, base + amp * np.sin(freq * 6.28 * x / w + phase)) for x in range(0, w + 16, 16)]
        d.polygon([(0, h), *pts, (w, h)], fill=tuple(int(c) for c in rng.integers(0, 200, 3)))
    for _ in range(int(rng.integers(6, 14))):  # circles and rectangles
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.03, 0.18) * min(w, h)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = (x0 - r, y0 - r, x0 + r, y0 + r)
        if rng.uniform() < 0.5:
            d.ellipse(box, fill=colour, outline=(0, 0, 0), width=3)
        else:
            d.rectangle(box, fill=colour, outline=(255, 255, 255), width=3)
    return img


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _edit(prompt: str, data: bytes, variant: int) -> Image.Image:
    with Image.open(io.BytesIO(data)) as src:
        base = src.convert("RGB")
    overlay = draw_picture(prompt, base.size, variant=variant)
    return Image.blend(base, overlay, 0.5)


def _error(status: int, message: str, code: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status_code=status,
    )


def build_standin_app(controls: StandinControls | None = None) -> FastAPI:
    c = controls or StandinControls()
    app = FastAPI(title="Amparo stand-in image generator")
    app.state.controls = c
    urls: dict[str, bytes] = {}
    add_video_routes(app, c)

    async def answer(request: Request, prompt: str, n: int, size: Any, images: list[bytes], base: str) -> Response:
        auth = request.headers.get("authorization", "")
        if c.expected_key is not None and auth != f"Bearer {c.expected_key}":
            given = auth.removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {given}.", "invalid_api_key")
        if c.delay_s:
            await asyncio.sleep(c.delay_s)
        if c.mode == "timeout":
            await asyncio.sleep(c.timeout_s)
        if c.mode == "error":
            return _error(
                500,
                f"internal failure while serving key {c.expected_key}",
                "server_error",
                "server_error",
            )
        if c.mode == "content_policy":
            return _error(
                400,
                "Your request was rejected by the upstream safety system.",
                "content_policy_violation",
            )
        if c.mode == "garbage":
            return Response(b"<html>502 Bad Gateway</html>", media_type="text/html")
        if c.mode == "garbage_image":
            junk = base64.b64encode(secrets.token_bytes(512)).decode()
            return JSONResponse({"created": int(time.time()), "data": [{"b64_json": junk}]})
        pictures: list[bytes] = []
        for i in range(max(1, min(n, 10))):
            if c.fixed_image is not None:
                pictures.append(c.fixed_image)
            elif images:
                pictures.append(encode_png(_edit(prompt, images[0], i)))
            else:
                pictures.append(encode_png(draw_picture(prompt, parse_size(size), variant=i)))
        data: list[dict[str, Any]] = []
        for p in pictures:
            if c.mode == "url":
                token = secrets.token_urlsafe(16)
                urls[token] = p
                data.append({"url": f"{base}files/{token}"})
            else:
                data.append({"b64_json": base64.b64encode(p).decode(), "revised_prompt": prompt})
        return JSONResponse({"created": int(time.time()), "data": data})

    @app.post("/v1/images/generations")
    async def generations(request: Request) -> Response:
        body = await request.json()
        c.requests.append(
            {
                "path": "generations",
                "body": body,
                "authorization": request.headers.get("authorization"),
            }
        )
        return await answer(
            request,
            str(body.get("prompt", "")),
            int(body.get("n") or 1),
            body.get("size"),
            [],
            str(request.base_url) + "v1/",
        )

    @app.post("/v1/images/edits")
    async def edits(request: Request) -> Response:
        form = await request.form()
        files = [v for k, v in form.multi_items() if k in ("image", "image[]") and isinstance(v, UploadFile)]
        images = [await f.read() for f in files]
        mask = form.get("mask")
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        c.requests.append(
            {
                "path": "edits",
                "body": fields,
                "images": len(images),
                "mask": isinstance(mask, UploadFile),
                "authorization": request.headers.get("authorization"),
            }
        )
        return await answer(
            request,
            str(fields.get("prompt", "")),
            int(fields.get("n") or 1),
            None,
            images,
            str(request.base_url) + "v1/",
        )

    @app.get("/v1/files/{token}")
    async def files(token: str) -> Response:
        data = urls.get(token)
        if data is None:
            return _error(404, "not found", "not_found")
        return Response(data, media_type="image/png")

    return app
