"""The reviewer's contact sheet for a video under review: a grid of frames, blurred and greyscale
until the reviewer reveals the item, with the matched and flagged time ranges marked.

    GET {prefix}/evidence/{ref}/sheet               blurred sheet (permission to see cases; recorded
                                                    as a preview in the audit trail)
    GET {prefix}/evidence/{ref}/sheet?grant=...     the sheet unblurred, after the case page's
                                                    reveal (the same reveal as an image: it counts
                                                    toward the daily exposure limit; recorded)

Frames are picked evenly (at most SHEET_TILES, at least a second apart) from the video as kept in
the vault. A tile whose time lies in a range matched to a banked video gets a red frame, one in a
range the detectors flagged an amber one; under the grid a timeline shows the ranges over the
whole length, with a tick per tile. The ranges come from the case item (open_case keeps them).
Blurring is as for image previews: a 1/16 downscale, then a Gaussian blur, in grey."""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request, Response
from PIL import Image, ImageDraw, ImageFilter

from amparo.audit import names
from amparo.cases import roles
from amparo.errors import BadInput, Forbidden, NotFound
from amparo.store import review_repo
from amparo.ui import tokens

SHEET_TILES = 24
COLUMNS = 6
TILE_WIDTH = 200
TIMELINE_HEIGHT = 28
MATCHED = (220, 40, 40)
FLAGGED = (240, 160, 20)


def case_ranges(items: list[Any], ref: str) -> tuple[list[list[float]], list[list[float]], float | None]:
    """(matched ranges, flagged ranges, worst frame time) of the case items holding this evidence."""
    matched: list[list[float]] = []
    flagged: list[list[float]] = []
    worst: float | None = None
    for it in items:
        if it.evidence_ref != ref:
            continue
        for m in it.matches or []:
            matched += [list(r) for r in (m.get("video") or {}).get("query_ranges", [])]
        for s in it.signals or []:
            if isinstance(s, dict) and s.get("type") == "video":
                flagged += [list(r) for r in s["video"].get("flagged_ranges", [])]
                worst = s["video"].get("worst_frame_t", worst)
    return matched, flagged, worst


def _inside(t: float, ranges: list[list[float]], slack: float) -> bool:
    return any(a - slack <= t <= b + slack for a, b in ranges)


def _blur(img: Image.Image) -> Image.Image:
    grey = img.convert("L")
    small = grey.resize((max(1, grey.width // 16), max(1, grey.height // 16)), Image.Resampling.BOX)
    return small.resize(grey.size, Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(6)).convert("RGB")


def draw_sheet(
    data: bytes, matched: list[list[float]], flagged: list[list[float]], *, blurred: bool, max_tiles: int = SHEET_TILES
) -> bytes:
    from amparo.content.video import Sampling, VideoLimits, open_video

    with open_video(data, limits=VideoLimits()) as src:
        duration = (src.info.duration_s if src.info else None) or float(max_tiles)
        step = max(1.0, duration / max_tiles)
        frames = [(f.timestamp, f.rgb) for f in src.frames(Sampling(step, "timestamp"))][:max_tiles]
    if not frames:
        raise BadInput("the video has no frame to show", code="bad_video")
    h, w = frames[0][1].shape[:2]
    tw, th = TILE_WIDTH, max(1, round(TILE_WIDTH * h / w))
    cols = min(COLUMNS, len(frames))
    rows = (len(frames) + cols - 1) // cols
    pad = 6
    sheet = Image.new(
        "RGB", (cols * (tw + pad) + pad, rows * (th + 18 + pad) + pad + TIMELINE_HEIGHT + pad), (24, 24, 28)
    )
    d = ImageDraw.Draw(sheet)
    for i, (t, rgb) in enumerate(frames):
        tile = Image.fromarray(rgb).resize((tw, th), Image.Resampling.BILINEAR)
        if blurred:
            tile = _blur(tile)
        x, y = pad + (i % cols) * (tw + pad), pad + (i // cols) * (th + 18 + pad)
        sheet.paste(tile, (x, y))
        colour = MATCHED if _inside(t, matched, step / 2) else FLAGGED if _inside(t, flagged, step / 2) else None
        if colour is not None:
            d.rectangle((x - 3, y - 3, x + tw + 2, y + th + 2), outline=colour, width=4)
        d.text((x + 2, y + th + 3), f"{int(t // 60)}:{t % 60:04.1f}", fill=colour or (200, 200, 200))
    top = sheet.height - TIMELINE_HEIGHT - pad
    left, right = pad, sheet.width - pad
    d.rectangle((left, top, right, top + TIMELINE_HEIGHT), fill=(60, 60, 66))

    def x_of(t: float) -> float:
        return left + (right - left) * min(max(t / duration, 0.0), 1.0)

    for ranges, colour in ((flagged, FLAGGED), (matched, MATCHED)):
        for a, b in ranges:
            d.rectangle((x_of(a), top + 4, max(x_of(b), x_of(a) + 3), top + TIMELINE_HEIGHT - 4), fill=colour)
    for t, _ in frames:
        d.line((x_of(t), top, x_of(t), top + 6), fill=(230, 230, 230), width=1)
    out = io.BytesIO()
    sheet.save(out, "JPEG", quality=80)
    return out.getvalue()


def add_video_sheet_routes(router: APIRouter, ui: Any) -> None:
    review = ui.review

    @router.get("/evidence/{ref}/sheet")
    def sheet(request: Request, ref: str, grant: str = "") -> Response:
        auth = ui.authenticate(request)
        if grant:
            ui.require(auth, roles.REVEAL, what="see unblurred media", subject=f"evidence:{ref}")
            if auth.actor.user_id is None or not tokens.check_grant(
                ui.secret, grant, ref=ref, user_id=auth.actor.user_id
            ):
                raise Forbidden("reveal the item on its case page first")
        else:
            ui.require(auth, roles.VIEW_CASES, what="see case media", subject=f"evidence:{ref}")
        with ui.db.session() as s:
            case_id = review_repo.case_for_evidence(s, evidence_ref=ref)
            if case_id is None:
                raise NotFound("no such item under review")
            items = review_repo.list_case_items(s, case_id=case_id)
            matched, flagged, _ = case_ranges(items, ref)
            _, data = review.vault.read(
                s,
                ref=ref,
                actor=auth.actor.name,
                actor_role=auth.actor.role,
                purpose="display after reveal" if grant else "blurred contact sheet",
                action=names.KEY_USED if grant else names.EVIDENCE_PREVIEW,
            )
        jpeg = draw_sheet(data, matched, flagged, blurred=not grant)
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store, private"})
