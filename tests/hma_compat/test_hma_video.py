"""vPDQ on the HMA-compatible routes: /h/hash answers pytx's vPDQ serialisation for a video, and
/m/lookup (upload, or signal_type=vpdq) finds a known clip inside a longer upload through the frame
index, with pytx's "Q%[C%]" distance and both shares."""

from __future__ import annotations

import hashlib
import json

from video_samples import known_clip, long_upload

from amparo.signals.hashes.vpdq import hash_video, parse_compact_json


def test_video_hash_and_lookup(hma) -> None:  # type: ignore[no-untyped-def]
    assert hma.client.post("/c/banks", json={"name": "KNOWN_VIDEOS"}).status_code == 201
    r = hma.client.post("/v1/banks/KNOWN_VIDEOS/videos/upload", files={"file": ("clip.mp4", known_clip(), "video/mp4")})
    assert r.status_code in (200, 201), r.text
    vid = r.json()["video_id"]
    upload = long_upload(40, 20)

    hashed = hma.client.post("/h/hash", files={"video": ("u.mp4", upload)}).json()
    assert set(hashed) == {"video_md5", "vpdq"} and hashed["video_md5"] == hashlib.md5(upload).hexdigest()
    frames = parse_compact_json(hashed["vpdq"])
    assert [f.hash for f in frames] == [f.hash for f in hash_video(upload).frames] and len(frames) == 40
    assert all(s.count(",") == 2 for s in json.loads(hashed["vpdq"]))  # pytx's "hash,quality,timestamp"

    posted = hma.client.post("/m/lookup", files={"video": ("u.mp4", upload)}).json()
    assert posted["video_md5"] == {}
    (hit,) = posted["vpdq"]["KNOWN_VIDEOS"]
    assert hit["bank_content_id"] == vid and hit["distance"] == "25%[100%]"
    assert hit["video"]["banked_share"] == 1.0 and [list(x) for x in hit["video"]["query_ranges"]] == [[20.0, 29.0]]
    got = hma.client.get("/m/lookup", params={"signal_type": "vpdq", "signal": hashed["vpdq"]}).json()
    assert got == posted["vpdq"]
    assert hma.client.get("/m/lookup", params={"signal_type": "vpdq", "signal": "[]"}).json() == {}
    assert hma.client.get("/m/lookup", params={"signal_type": "vpdq", "signal": "not json"}).status_code == 400
    bad = hma.client.get("/h/hash", params={"url": f"{hma.media}/x.mp4", "content_type": "video", "types": "vpdq,pdq"})
    assert bad.status_code == 400 and "pdq" in bad.json()["message"]  # pdq is not a video signal
    # a video field with bytes that are not a video keeps HMA's answer: the MD5 only
    assert set(hma.client.post("/h/hash", files={"video": ("v.mp4", b"\x00" * 64)}).json()) == {"video_md5"}
