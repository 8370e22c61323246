"""Video decoding (limits, sampling, hashes of the bytes) and vPDQ as the reference computes it.

The reference rule (facebook/ThreatExchange vpdq/cpp/vpdq/cpp/hashing/filehasher.cpp): keep decoded
frame n when n % int(seconds_per_hash * avg_frame_rate) == 0, convert it to RGB24 with swscale at the
decoded size, take PDQ of those pixels, stamp it n / frame_rate. The comparison below re-implements
that rule literally, frame by frame, on videos the test draws."""

from __future__ import annotations

import hashlib
import io
import json
from fractions import Fraction

import av
import numpy as np
import pdqhash
import pytest
from video_samples import make_video

from amparo.content.video import Sampling, VideoLimits, open_video, sniff_video
from amparo.errors import BadInput, TooLarge, UnsupportedMedia
from amparo.signals.hashes.vpdq import (
    VpdqFrame,
    format_compact_json,
    format_reference_lines,
    hash_video,
    parse_any,
    parse_compact_json,
    parse_reference_lines,
)


def _literal_reference(data: bytes, seconds_per_hash: float) -> list[tuple[int, int, str, float]]:
    c = av.open(io.BytesIO(data))
    s = c.streams.video[0]
    rate = s.average_rate or s.base_rate
    fps = float(rate)
    mod = max(1, int(seconds_per_hash * fps))
    out = []
    for n, frame in enumerate(c.decode(s)):
        if n % mod == 0:
            rgb = frame.reformat(format="rgb24", interpolation="AREA").to_ndarray()
            bits, q = pdqhash.compute(np.ascontiguousarray(rgb))
            out.append((n, int(q), np.packbits(bits.astype(np.uint8)).tobytes().hex(), n / fps))
    c.close()
    return out


@pytest.mark.parametrize(
    ("fps", "codec", "container", "sph"),
    [
        (30, "libx264", "mp4", 1.0),
        (Fraction(30000, 1001), "libx264", "mp4", 1.0),  # int(29.97) = 29: every 29th frame
        (25, "libvpx-vp9", "webm", 1.0),
        (24, "mpeg4", "avi", 0.5),
        (10, "libx264", "matroska", 0.0),  # every frame
    ],
)
def test_vpdq_equals_the_reference_rule(fps, codec, container, sph) -> None:
    data = make_video(4.2, scene=3, fps=fps, codec=codec, container=container, size=(192, 108))
    ref = _literal_reference(data, sph)
    got = hash_video(data, sampling=Sampling(sph))
    assert [(f.frame_number, f.quality, f.hash) for f in got.frames] == [r[:3] for r in ref]
    assert [round(f.timestamp, 6) for f in got.frames] == [round(r[3], 6) for r in ref]
    mod = max(1, int(sph * float(fps)))
    assert [f.frame_number for f in got.frames] == list(range(0, got.decoded_frames, mod))
    assert got.info is not None and got.info.sha256 == hashlib.sha256(data).hexdigest()
    assert got.info.md5 == hashlib.md5(data).hexdigest()
    assert got.to_dict()["sampling"] == {"seconds_per_hash": sph, "rule": "frame_index"}


def test_one_hash_a_second_by_default_and_quality_is_high() -> None:
    data = make_video(5, scene=1, fps=30)
    vh = hash_video(data)
    assert [f.frame_number for f in vh.frames] == [0, 30, 60, 90, 120]
    assert [f.timestamp for f in vh.frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert all(f.quality >= 50 for f in vh.frames)


def test_timestamp_rule_picks_first_frame_of_each_interval() -> None:
    data = make_video(3, scene=1, fps=25)
    vh = hash_video(data, sampling=Sampling(0.5, "timestamp"))
    assert [f.frame_number for f in vh.frames] == [0, 13, 25, 38, 50, 63]  # 0.52 s is the first >= 0.5
    assert vh.to_dict()["sampling"]["rule"] == "timestamp"


def test_reencoded_video_hashes_close_and_other_scene_far() -> None:
    a = hash_video(make_video(3, scene=5, size=(320, 180)))
    b = hash_video(make_video(3, scene=5, size=(480, 270), codec="libvpx-vp9", container="webm"))
    other = hash_video(make_video(3, scene=6, size=(320, 180)))

    def dist(x: VpdqFrame, y: VpdqFrame) -> int:
        return bin(int(x.hash, 16) ^ int(y.hash, 16)).count("1")

    assert max(dist(x, y) for x, y in zip(a.frames, b.frames, strict=True)) <= 31
    assert min(dist(x, y) for x in a.frames for y in other.frames) > 31


def test_reference_and_compact_formats_round_trip() -> None:
    vh = hash_video(make_video(3, scene=2))
    text = format_reference_lines(vh.frames)
    first = text.splitlines()[0].split(",")
    assert first[0] == "0" and len(first[2]) == 64 and first[3] == "0.000"
    assert parse_reference_lines(text) == [
        VpdqFrame(f.frame_number, f.quality, f.hash, round(f.timestamp, 3)) for f in vh.frames
    ]
    compact = format_compact_json(vh.frames)
    items = json.loads(compact)
    assert items[1] == f"{vh.frames[1].hash},{vh.frames[1].quality},1.000"
    assert [f.hash for f in parse_compact_json(compact)] == [f.hash for f in vh.frames]
    assert [f.hash for f in parse_any(compact)] == [f.hash for f in parse_any(text)]


def test_compact_json_as_python_threatexchange_writes_it() -> None:
    # python-threatexchange writes the timestamp with `:.3` (three significant digits), so long
    # videos carry exponents: "1.23e+02". Those strings are read as numbers.
    h = "f" * 32 + "0" * 32
    frames = parse_compact_json(json.dumps([f"{h},100,0.0", f"{h},87,12.5", f"{h},64,1.23e+02"]))
    assert [(f.quality, f.timestamp) for f in frames] == [(100, 0.0), (87, 12.5), (64, 123.0)]
    assert [f.frame_number for f in frames] == [0, 1, 2]


@pytest.mark.parametrize(
    "text",
    [
        "0,100,zz,0.0",
        "0,101," + "a" * 64 + ",0",
        "0,90," + "a" * 64,
        "-1,90," + "a" * 64 + ",0",
        "0,90," + "a" * 64 + ",-2",
        "0,90," + "a" * 64 + ",nan",
    ],
)
def test_malformed_reference_lines_are_refused(text: str) -> None:
    with pytest.raises(BadInput):
        parse_reference_lines(text)


@pytest.mark.parametrize("text", ["{}", "[1]", '["a,b"]', "[", '["' + "a" * 64 + ',50,x"]'])
def test_malformed_compact_json_is_refused(text: str) -> None:
    with pytest.raises(BadInput):
        parse_compact_json(text)


# -- limits and bad input ----------------------------------------------------------------------


def test_sniffing() -> None:
    assert sniff_video(make_video(0.5, container="mp4")) == "mov"
    assert sniff_video(make_video(0.5, codec="libvpx-vp9", container="webm")) == "matroska"
    assert sniff_video(make_video(0.5, codec="mpeg4", container="avi")) == "avi"
    assert sniff_video(b"\x89PNG\r\n\x1a\n" + b"\0" * 100) is None
    assert sniff_video(b"\0\0\0\x18ftypavif" + b"\0" * 100) is None


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (VideoLimits(max_bytes=1000), "bytes"),
        (VideoLimits(max_duration_s=1.0), "lasts"),
        (VideoLimits(max_pixels=100 * 100), "pixels"),
        (VideoLimits(max_side=200), "pixels"),
        (VideoLimits(max_frames=20), "frames"),
        (VideoLimits(max_samples=1), "sampled"),
        (VideoLimits(max_decode_s=0.0), "decode"),
    ],
)
def test_limits_refuse_with_clear_errors(limits: VideoLimits, message: str) -> None:
    data = make_video(2.5, fps=30, size=(320, 180))
    with pytest.raises(TooLarge, match=message):
        hash_video(data, limits=limits)


def test_refuses_codec_outside_the_list_and_non_video() -> None:
    data = make_video(1, codec="mpeg4", container="mp4")
    with pytest.raises(UnsupportedMedia, match="mpeg4"):
        hash_video(data, limits=VideoLimits(codecs=frozenset({"h264"})))
    with pytest.raises(UnsupportedMedia):
        hash_video(b"GIF89a" + b"\0" * 64)
    with pytest.raises(BadInput):
        hash_video(b"")


def test_truncated_and_corrupt_video_give_bad_input() -> None:
    data = make_video(2, fps=30)
    with pytest.raises(BadInput):
        hash_video(data[:200])
    garbage = data[:64] + bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8))
    with pytest.raises(BadInput):
        hash_video(garbage)


def test_audio_only_file_is_not_a_video() -> None:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        st = out.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for p in st.encode(frame):
            out.mux(p)
        for p in st.encode():
            out.mux(p)
    with pytest.raises(UnsupportedMedia, match="no video stream"):
        hash_video(buf.getvalue())


def test_bad_sampling_is_refused() -> None:
    with pytest.raises(BadInput):
        Sampling(-1)
    with pytest.raises(BadInput):
        Sampling(1, "keyframes")


def test_decoding_writes_no_files(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with open_video(make_video(1, fps=10)) as src:
        n = sum(1 for _ in src.frames(Sampling(0)))
    assert n == 10 and list(tmp_path.iterdir()) == []
