"""The stand-in generator's video mode: the OpenAI Videos API (Sora) shape, drawing benign clips.

    POST   /v1/videos                  multipart or JSON: prompt, model, seconds, size, input_reference
    GET    /v1/videos                  list (after, limit, order)
    GET    /v1/videos/{id}             the job: queued → in_progress → completed (or failed)
    DELETE /v1/videos/{id}
    POST   /v1/videos/{id}/remix       JSON {prompt}: only a completed video
    GET    /v1/videos/{id}/content     ?variant=video (MP4) | thumbnail (WEBP) | spritesheet (JPEG)

It rejects what the real API rejects (openai-python types/video_*.py and the guide): a missing
prompt; a model other than the sora-2 family; seconds other than 4, 8, 12; a size other than the
four listed (the two 1024x1792 sizes only with sora-2-pro); an input_reference that is not an
image of exactly the requested size; content or remix of a job that is not completed; an unknown
variant. Clips are moving shapes and a caption over a drawn landscape (never people), seeded by the
prompt, encoded with PyAV (H.264, `video_fps` frames a second to keep tests fast). Knobs on
StandinControls: video_mode ("ok" | "fail" | "content_policy" | "garbage_video"), fixed_video
(bytes to deliver instead of a drawing), video_render_s (time until a job completes)."""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image, ImageDraw
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

VIDEO_MODELS = ("sora-2", "sora-2-pro", "sora-2-2025-10-06", "sora-2-pro-2025-10-06", "sora-2-2025-12-08")
VIDEO_SECONDS = ("4", "8", "12")
VIDEO_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
PRO_ONLY_SIZES = ("1024x1792", "1792x1024")
VIDEO_MODES = ("ok", "fail", "content_policy", "garbage_video")
VARIANTS = ("video", "thumbnail", "spritesheet")
SPRITE_COLUMNS = 4


@dataclass
class _Job:
    id: str
    model: str
    seconds: str
    size: str
    prompt: str
    created: float
    remixed_from: str | None = None
    data: bytes | None = None
    frames: list[np.ndarray] = field(default_factory=list)
    failed: bool = False

    def to_dict(self, render_s: float) -> dict[str, Any]:
        elapsed = time.time() - self.created
        done = elapsed >= render_s
        status = (
            "failed"
            if (done and self.failed)
            else "completed"
            if done
            else "queued"
            if elapsed < render_s / 4
            else "in_progress"
        )
        return {
            "id": self.id,
            "object": "video",
            "model": self.model,
            "status": status,
            "progress": 100 if done else int(100 * elapsed / max(render_s, 1e-6)),
            "created_at": int(self.created),
            "completed_at": int(self.created + render_s) if done else None,
            "expires_at": int(self.created + render_s + 3600) if done and not self.failed else None,
            "prompt": self.prompt,
            "seconds": self.seconds,
            "size": self.size,
            "remixed_from_video_id": self.remixed_from,
            "error": {"code": "video_generation_failed", "message": "Video generation failed."}
            if status == "failed"
            else None,
        }


def draw_frames(prompt: str, size: tuple[int, int], seconds: float, fps: int) -> list[np.ndarray]:
    """Benign frames: the stand-in's landscape for the prompt, with discs and a caption moving over it."""
    from amparo.proxy.standin_generator import draw_picture

    w, h = size
    base = draw_picture(prompt, (w, h))
    rng = np.random.default_rng(int.from_bytes(prompt.encode()[:8].ljust(8, b"\0"), "big"))
    movers = [
        (
            rng.uniform(0.05, 0.12) * min(w, h),
            rng.uniform(0.1, 0.4),
            rng.uniform(0, 6.3),
            tuple(int(c) for c in rng.integers(0, 256, 3)),
        )
        for _ in range(5)
    ]
    out: list[np.ndarray] = []
    for i in range(int(round(seconds * fps))):
        t = i / fps
        img = base.copy()
        d = ImageDraw.Draw(img)
        for k, (r, speed, phase, colour) in enumerate(movers):
            cx = (0.5 + 0.4 * np.sin(phase + t * speed * (k + 1))) * w
            cy = (0.5 + 0.4 * np.cos(phase * 1.7 + t * speed * (k + 2))) * h
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(0, 0, 0), width=3)
        d.text((w * 0.05, h * 0.9), f"stand-in t={t:.1f}", fill=(255, 255, 255))
        out.append(np.asarray(img))
    return out


def encode_mp4(frames: list[np.ndarray], fps: int) -> bytes:
    import av

    h, w = frames[0].shape[:2]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.thread_count = 1
        stream.options = {"preset": "ultrafast", "crf": "23"}
        for f in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def _image(rgb: np.ndarray, fmt: str, max_side: int) -> bytes:
    img = Image.fromarray(rgb)
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, fmt, quality=80)
    return buf.getvalue()


def _sprites(frames: list[np.ndarray], fps: int) -> bytes:
    picks = frames[::fps] or frames[:1]
    tiles = [Image.fromarray(f).resize((160, max(1, 160 * f.shape[0] // f.shape[1]))) for f in picks]
    tw, th = tiles[0].size
    rows = (len(tiles) + SPRITE_COLUMNS - 1) // SPRITE_COLUMNS
    sheet = Image.new("RGB", (tw * SPRITE_COLUMNS, th * rows))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % SPRITE_COLUMNS) * tw, (i // SPRITE_COLUMNS) * th))
    buf = io.BytesIO()
    sheet.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _err(status: int, message: str, param: str | None = None, code: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}},
        status_code=status,
    )


async def _fields(request: Request) -> tuple[dict[str, str], bytes | None] | JSONResponse:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        ref = form.get("input_reference")
        data = await ref.read() if isinstance(ref, UploadFile) else None
        return {k: v for k, v in form.multi_items() if isinstance(v, str)}, data
    try:
        body = await request.json()
    except ValueError:
        return _err(400, "We could not parse the JSON body of your request.", code="invalid_json")
    if not isinstance(body, dict):
        return _err(400, "The body must be a JSON object.", code="invalid_json")
    if "input_reference" in body:
        return _err(400, "input_reference objects are not supported here", "input_reference", "unsupported_value")
    return {k: str(v) for k, v in body.items() if isinstance(v, (str, int))}, None


def add_video_routes(app: FastAPI, c: Any) -> None:
    """Mount the Videos API on the stand-in app; `c` is its StandinControls."""
    jobs: dict[str, _Job] = {}

    def denied(request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        if c.expected_key is not None and auth != f"Bearer {c.expected_key}":
            return _err(401, f"Incorrect API key provided: {auth.removeprefix('Bearer ')}.", code="invalid_api_key")
        return None

    def render(job: _Job) -> None:
        if job.data is not None:
            return
        if c.fixed_video is not None:
            job.data = c.fixed_video
            return
        w, h = (int(x) for x in job.size.split("x"))
        job.frames = draw_frames(job.prompt, (w, h), float(job.seconds), c.video_fps)
        job.data = encode_mp4(job.frames, c.video_fps)
        if c.video_mode == "garbage_video":
            job.data = secrets.token_bytes(2048)

    def new_job(fields: dict[str, str], remixed_from: _Job | None) -> _Job:
        src = remixed_from
        return _Job(
            id="video_" + secrets.token_hex(16),
            model=src.model if src else fields.get("model", "sora-2"),
            seconds=src.seconds if src else fields.get("seconds", "4"),
            size=src.size if src else fields.get("size", "720x1280"),
            prompt=fields.get("prompt", ""),
            created=time.time(),
            remixed_from=src.id if src else None,
            failed=c.video_mode == "fail",
        )

    def validate(fields: dict[str, str], reference: bytes | None) -> JSONResponse | None:
        if not fields.get("prompt", "").strip():
            return _err(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        model = fields.get("model", "sora-2")
        if model not in VIDEO_MODELS:
            return _err(
                400,
                f"Invalid value: '{model}'. Supported values are: {', '.join(VIDEO_MODELS[:2])}.",
                "model",
                "invalid_value",
            )
        if fields.get("seconds", "4") not in VIDEO_SECONDS:
            return _err(
                400,
                "Invalid value for 'seconds'. Supported values are: '4', '8', and '12'.",
                "seconds",
                "invalid_value",
            )
        size = fields.get("size", "720x1280")
        if size not in VIDEO_SIZES or (size in PRO_ONLY_SIZES and "pro" not in model):
            return _err(400, f"Invalid value for 'size' with model {model}: '{size}'.", "size", "invalid_value")
        if reference is not None:
            try:
                with Image.open(io.BytesIO(reference)) as img:
                    dims = f"{img.width}x{img.height}"
            except Exception:
                return _err(400, "input_reference is not a supported image.", "input_reference", "invalid_value")
            if dims != size:
                return _err(
                    400, "Inpaint image must match the requested width and height", "input_reference", "invalid_value"
                )
        return None

    @app.post("/v1/videos")
    async def create(request: Request) -> Response:
        if (no := denied(request)) is not None:
            return no
        got = await _fields(request)
        if isinstance(got, JSONResponse):
            return got
        fields, reference = got
        c.requests.append(
            {
                "path": "videos",
                "body": fields,
                "reference": reference is not None,
                "authorization": request.headers.get("authorization"),
            }
        )
        if (bad := validate(fields, reference)) is not None:
            return bad
        if c.video_mode == "content_policy":
            return _err(400, "Your request was blocked by our moderation system.", code="moderation_blocked")
        job = new_job(fields, None)
        jobs[job.id] = job
        return JSONResponse(job.to_dict(c.video_render_s))

    @app.get("/v1/videos")
    async def list_videos(request: Request, after: str | None = None, limit: int = 20, order: str = "desc") -> Response:
        if (no := denied(request)) is not None:
            return no
        items = sorted(jobs.values(), key=lambda j: j.created, reverse=order != "asc")
        if after is not None:
            ids = [j.id for j in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[: max(1, min(limit, 100))]
        data = [j.to_dict(c.video_render_s) for j in page]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": len(items) > len(page),
            }
        )

    def find(video_id: str) -> _Job | JSONResponse:
        job = jobs.get(video_id)
        return job if job is not None else _err(404, f"Video with id '{video_id}' not found.", code="not_found")

    @app.get("/v1/videos/{video_id}")
    async def retrieve(request: Request, video_id: str) -> Response:
        if (no := denied(request)) is not None:
            return no
        job = find(video_id)
        return job if isinstance(job, JSONResponse) else JSONResponse(job.to_dict(c.video_render_s))

    @app.delete("/v1/videos/{video_id}")
    async def delete(request: Request, video_id: str) -> Response:
        if (no := denied(request)) is not None:
            return no
        job = find(video_id)
        if isinstance(job, JSONResponse):
            return job
        del jobs[video_id]
        return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})

    @app.post("/v1/videos/{video_id}/remix")
    async def remix(request: Request, video_id: str) -> Response:
        if (no := denied(request)) is not None:
            return no
        src = find(video_id)
        if isinstance(src, JSONResponse):
            return src
        got = await _fields(request)
        if isinstance(got, JSONResponse):
            return got
        fields, _ = got
        c.requests.append({"path": "remix", "body": fields, "source": video_id})
        if not fields.get("prompt", "").strip():
            return _err(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        if src.to_dict(c.video_render_s)["status"] != "completed":
            return _err(400, "Only completed videos can be remixed.", code="invalid_video_state")
        job = new_job(fields, src)
        jobs[job.id] = job
        return JSONResponse(job.to_dict(c.video_render_s))

    @app.get("/v1/videos/{video_id}/content")
    async def content(request: Request, video_id: str, variant: str = "video") -> Response:
        if (no := denied(request)) is not None:
            return no
        job = find(video_id)
        if isinstance(job, JSONResponse):
            return job
        if variant not in VARIANTS:
            return _err(
                400,
                f"Invalid value: '{variant}'. Supported values are: {', '.join(VARIANTS)}.",
                "variant",
                "invalid_value",
            )
        if job.to_dict(c.video_render_s)["status"] != "completed":
            return _err(404, "Video is not ready yet, or it failed.", code="video_not_ready")
        await run_in_threadpool(render, job)
        assert job.data is not None
        if variant == "video":
            return Response(job.data, media_type="video/mp4")
        if not job.frames:  # a fixed video: decode its frames for the previews
            from amparo.content.video import Sampling, open_video

            with open_video(job.data) as src:
                job.frames = [f.rgb for f in src.frames(Sampling(0.0))]
        if variant == "thumbnail":
            return Response(_image(job.frames[0], "WEBP", 512), media_type="image/webp")
        return Response(_sprites(job.frames, c.video_fps), media_type="image/jpeg")
