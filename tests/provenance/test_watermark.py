from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from amparo.errors import BadInput
from amparo.provenance.watermark import (
    MAX_ID,
    WatermarkKey,
    embed_watermark,
    read_watermark,
)
from amparo.provenance.watermark_code import encode_bits, viterbi_decode
from amparo.provenance.watermark_samples import draw_benign_image
from amparo.provenance.watermark_signal import psnr

from .image_transforms import BAR_TRANSFORMS, crop_keep, jpeg, shared_pdq_dir

KEY = WatermarkKey(bytes(range(32)))
OTHER_KEY = WatermarkKey(bytes(range(1, 33)))


@pytest.mark.parametrize("name", sorted(BAR_TRANSFORMS))
def test_id_survives_the_bar_transformations(name, benign_1024, bridge_1024):
    transform = BAR_TRANSFORMS[name]
    for i, image in enumerate([*benign_1024, bridge_1024]):
        payload = (0xA5A5_0000_0000_0001 * (i + 3)) & MAX_ID
        marked = embed_watermark(image, payload, KEY)
        reading = read_watermark(transform(marked), KEY)
        assert reading is not None, f"{name}: image {i} lost its mark"
        assert reading.id == payload
        assert 0.0 <= reading.confidence <= 1.0
        assert reading.method == "amparo-wm-v1"


def test_mark_is_invisible_enough(benign_1024, bridge_1024):
    for image in [*benign_1024, bridge_1024]:
        assert psnr(image, embed_watermark(image, 42, KEY)) >= 38.0


def test_wrong_key_reads_nothing(benign_1024, bridge_1024):
    for image in [*benign_1024, bridge_1024]:
        marked = embed_watermark(image, 1234, KEY)
        assert read_watermark(marked, OTHER_KEY) is None
        assert read_watermark(jpeg(marked, 75), OTHER_KEY) is None


def test_unmarked_benign_images_read_nothing():
    pdq = shared_pdq_dir()
    paths = sorted((pdq / "bridge-mods").glob("*.jpg")) + sorted((pdq / "misc-images").glob("*.*"))
    paths += sorted((pdq / "reg-test" / "dih").glob("*.jpg"))[:3]
    assert len(paths) >= 15
    images = []
    for path in paths:
        with Image.open(path) as img:
            images.append(img.convert("RGB"))
    images += [draw_benign_image(seed, 512) for seed in range(100, 106)]
    for image in images:
        assert read_watermark(image, KEY) is None


def test_other_sizes_and_pil_input():
    for size, seed in (((512, 512), 7), ((1792, 1024), 8), ((640, 1100), 9)):
        image = draw_benign_image(seed, max(size)).crop((0, 0, *size))
        marked = embed_watermark(image, MAX_ID, KEY)
        assert marked.shape == (size[1], size[0], 3)
        reading = read_watermark(Image.fromarray(jpeg(marked, 75)), KEY)
        assert reading is not None and reading.id == MAX_ID


def test_lasting_half_size_is_searched(bridge_1024):
    marked = embed_watermark(bridge_1024, 99, KEY)
    small = np.asarray(Image.fromarray(marked).resize((512, 512), Image.Resampling.BICUBIC))
    reading = read_watermark(small, KEY)
    assert reading is not None and reading.id == 99 and reading.scale == 2.0


def test_embedding_is_keyed_and_payload_dependent(bridge_1024):
    a = embed_watermark(bridge_1024, 1, KEY).astype(int)
    b = embed_watermark(bridge_1024, 2, KEY).astype(int)
    c = embed_watermark(bridge_1024, 1, OTHER_KEY).astype(int)
    assert np.any(a != b) and np.any(a != c)
    assert read_watermark(crop_keep(a.astype(np.uint8), 0.9, "c"), KEY).id == 1


def test_bad_input_is_rejected_clearly(bridge_1024):
    with pytest.raises(BadInput):
        embed_watermark(bridge_1024, 1, b"short")
    with pytest.raises(BadInput):
        embed_watermark(bridge_1024, MAX_ID + 1, KEY)
    with pytest.raises(BadInput):
        embed_watermark(bridge_1024, -1, KEY)
    with pytest.raises(BadInput):
        embed_watermark(bridge_1024[:200, :200], 1, KEY)
    with pytest.raises(BadInput):
        embed_watermark(np.zeros((300, 300, 5), np.uint8), 1, KEY)
    with pytest.raises(BadInput):
        WatermarkKey.from_hex("not hex")
    assert read_watermark(bridge_1024[:100, :100], KEY) is None
    assert "bytes>" in repr(KEY) and KEY.hex() not in repr(KEY)


def test_viterbi_corrects_scattered_errors():
    rng = np.random.default_rng(3)
    message = rng.integers(0, 2, 88).astype(np.uint8)
    coded = encode_bits(message)
    soft = 1.0 - 2.0 * coded.astype(float)
    flip = rng.choice(coded.size, 25, replace=False)
    soft[flip] *= -1
    assert np.array_equal(viterbi_decode(soft, 88), message)
