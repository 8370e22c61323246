"""vPDQ on the HMA-compatible routes, as HMA answers with python-threatexchange's vPDQ extension.

- `/h/hash` and `/m/lookup` with a video upload (field `video`, or `?url=` with a video content
  type) answer `vpdq` beside `video_md5` when the bytes decode as a video: the JSON list of
  "hash,quality,timestamp" strings that pytx's VPDQSignal serialises (one frame a second).
- `/m/lookup?signal_type=vpdq&signal=<that JSON>` and the `vpdq` part of an upload lookup search
  the frame index. A banked video matches when *either* share reaches the policy's threshold
  (pytx asks the query share only, so a short known clip in a long upload is missed there);
  `distance` is pytx's pretty string "Q%[C%]" (query share, banked share) and `video` carries both
  shares and the matched time ranges. `bank_content_id` is the banked video's id (videos have
  their own ids: /v1/banks/{name}/videos)."""

from __future__ import annotations

import random
from typing import Any

from amparo.api.routes.hma_common import HmaError
from amparo.errors import AmparoError
from amparo.store import banks_repo

VPDQ = "vpdq"


def video_hash(svc: Any, data: bytes) -> dict[str, str]:
    """{"vpdq": compact JSON} for a video, {} for bytes that are not one (HMA's video_md5 is still given)."""
    from amparo.content.video import is_video
    from amparo.pipeline_video import hash_video_bytes
    from amparo.signals.hashes.vpdq import format_compact_json

    if not is_video(data):
        return {}
    try:
        vh = hash_video_bytes(svc.settings, data)
    except AmparoError as e:
        raise HmaError(400, f"the video could not be hashed: {e.message}") from None
    return {VPDQ: format_compact_json(vh.frames)}


def vpdq_lookup_impl(
    svc: Any, signal: str, banks: set[str] | None, bypass_coinflip: bool, seed: str | None
) -> dict[str, list[dict[str, Any]]]:
    from amparo.pipeline_video import video_thresholds
    from amparo.signals.hashes.vpdq import parse_compact_json

    if not isinstance(signal, str):
        raise HmaError(400, "Invalid vpdq signal: expected a string")
    try:
        frames = parse_compact_json(signal)
    except AmparoError as e:
        raise HmaError(400, f"Invalid vpdq signal: {e.message}") from None
    result = svc.video_matcher.lookup_video(frames, thresholds=video_thresholds(svc.pipeline), banks=banks)
    with svc.db.session() as s:
        ratios = {
            b.name: (b.enabled_ratio if b.enabled_ratio is not None else float(b.enabled))
            for b in banks_repo.list_banks(s)
        }
    coinflip = 0.0 if bypass_coinflip else random.Random(seed).random()
    out: dict[str, list[dict[str, Any]]] = {}
    for m in result.matches:
        ratio = ratios.get(m.bank, 0.0)
        if ratio <= 0 or ratio < coinflip:
            continue
        v = m.video or {}
        pretty = f"{100 * v.get('query_share', 0):.0f}%[{100 * v.get('banked_share', 0):.0f}%]"
        out.setdefault(m.bank, []).append({"bank_content_id": m.entry_id, "distance": pretty, "video": v})
    return out
