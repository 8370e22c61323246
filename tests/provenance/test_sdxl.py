from __future__ import annotations

import sys
import types

import numpy as np

from amparo.provenance.watermark import detect_sdxl_watermark
from amparo.provenance.watermark_samples import draw_benign_image
from amparo.provenance.watermark_sdxl import SDXL_WATERMARK_BITS, decode_dwtdct_bits


def _imwatermark():
    # imwatermark imports torch at import time only for rivaGan; dwtDct never uses it
    sys.modules.setdefault("torch", types.ModuleType("torch"))
    import imwatermark

    return imwatermark


def test_message_constant():
    value = int("".join(map(str, SDXL_WATERMARK_BITS.tolist())), 2)
    assert value == 0xB3EC907BB19E
    assert value == 0b101100111110110010010000011110111011000110011110


def test_unmarked_images_are_not_sdxl():
    for seed in range(6):
        reading = detect_sdxl_watermark(draw_benign_image(seed, 512))
        assert reading.verdict in ("none", "partial")
        assert not reading.detected
    assert detect_sdxl_watermark(np.zeros((64, 64, 3), np.uint8)).verdict == "none"


def test_decoder_agrees_with_imwatermark_and_detects_its_marks():
    imw = _imwatermark()
    encoder = imw.WatermarkEncoder()
    encoder.set_watermark("bits", SDXL_WATERMARK_BITS.tolist())
    detected = 0
    for seed in (1, 2, 3, 4):  # textured kinds: dwtDct fails on flat images by design
        rgb = np.asarray(draw_benign_image(seed, 512))
        marked = encoder.encode(rgb.copy(), "dwtDct")  # diffusers passes RGB as if BGR
        for arr in (marked, rgb, np.ascontiguousarray(marked[:, :, ::-1])):
            ref = np.asarray(imw.WatermarkDecoder("bits", 48).decode(arr, "dwtDct"), np.uint8)
            assert np.array_equal(decode_dwtdct_bits(arr), ref)
        reading = detect_sdxl_watermark(marked)
        detected += reading.detected
        assert not detect_sdxl_watermark(rgb).detected
    assert detected >= 3
