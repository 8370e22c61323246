"""Finding 1: animated-image bombs are refused from the header, and decoding runs on a budget."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from amparo.content.decode_budget import check_gif_frame_count
from amparo.content.images import decode_image
from amparo.errors import TooLarge
from security.bombs import apng_bomb, gif_bomb

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_407_byte_gif_is_refused_from_the_header_fast() -> None:
    data = gif_bomb()
    assert len(data) == 407
    t0 = time.monotonic()
    with pytest.raises(TooLarge) as e:
        decode_image(data)
    assert time.monotonic() - t0 < 1.0
    assert e.value.code == "decode_budget" and "16 frames" in e.value.message


def test_apng_bomb_is_refused_from_the_header_fast() -> None:
    t0 = time.monotonic()
    with pytest.raises(TooLarge):
        decode_image(apng_bomb())
    assert time.monotonic() - t0 < 1.0


def test_the_bomb_is_refused_in_small_memory() -> None:
    # A fresh process, so that its peak resident memory is the refusal's own (plus imports).
    code = (
        "from amparo.content.images import decode_image; "
        "from security.bombs import gif_bomb, apng_bomb\n"
        "for d in (gif_bomb(), apng_bomb()):\n"
        "    try: decode_image(d)\n"
        "    except Exception as e: assert type(e).__name__ == 'TooLarge'\n"
        "    else: raise SystemExit('decoded')\n"
        # VmHWM: this process image's own peak (ru_maxrss would include the forking parent's)
        "print(next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": f"{SRC}:{SRC.parent / 'tests'}", "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    peak_kib = int(out.stdout.strip())
    assert peak_kib < 300 * 1024, f"peak {peak_kib} KiB"  # decoding one frame alone would need ~190 MiB


def _webp_animation(side: int, frames: int) -> bytes:
    rng = np.random.default_rng(1)
    imgs = [Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)) for _ in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "WEBP", save_all=True, append_images=imgs[1:], lossless=False, quality=10)
    return buf.getvalue()


def test_animated_webp_over_the_budget_is_refused_and_under_it_decoded() -> None:
    data = _webp_animation(200, 12)  # 40,000 px x 12 frames = 480,000 px
    with pytest.raises(TooLarge):
        decode_image(data, max_pixels=100_000, max_decode_pixels=400_000)
    ok = decode_image(data, max_pixels=100_000, max_decode_pixels=500_000, max_frames=4)
    assert ok.frame_count == 12 and len(ok.frames) == 3  # the first frame plus three more of the spread


def test_the_time_budget_stops_a_slow_animation() -> None:
    frames = [Image.new("RGB", (300, 300), (40 * i, 0, 0)) for i in range(6)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(TooLarge) as e:
        decode_image(buf.getvalue(), max_decode_seconds=0.0)
    assert "took over" in e.value.message
    assert len(decode_image(buf.getvalue()).frames) == 5  # within the default budget all are checked


def test_the_bomb_over_http_is_a_fast_413(live_api) -> None:  # type: ignore[no-untyped-def]
    url, keys = live_api
    t0 = time.monotonic()
    r = httpx.post(
        f"{url}/v1/check",
        files={"file": ("bomb.gif", gif_bomb(), "image/gif")},
        headers={"Authorization": f"Bearer {keys['submitter']}"},
        timeout=30,
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "decode_budget"
    assert time.monotonic() - t0 < 2.0


def test_a_gif_of_millions_of_tiny_frames_is_refused_before_they_are_counted() -> None:
    data = gif_bomb(16, 16, 2_000_000)  # 46 MB: Pillow alone needs ~25 s just to count the frames
    t0 = time.monotonic()
    with pytest.raises(TooLarge) as e:
        decode_image(data, max_bytes=len(data))
    assert time.monotonic() - t0 < 1.0 and "frames" in e.value.message


@pytest.mark.parametrize("frames", [2, 7, 40])
def test_the_frame_walk_counts_as_the_decoder_does(frames: int) -> None:
    rng = np.random.default_rng(frames)
    imgs = [Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)) for _ in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "GIF", save_all=True, append_images=imgs[1:], comment=b"benign", loop=0)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).n_frames == frames
    check_gif_frame_count(data, limit=frames)  # exactly at the limit: fine
    with pytest.raises(TooLarge):
        check_gif_frame_count(data, limit=frames - 1)
