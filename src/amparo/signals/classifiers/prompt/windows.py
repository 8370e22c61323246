"""Long texts are read in overlapping windows of tokens, so a story or a chat log gets a verdict.

The text is normalised and corrected once; the rules then run on windows of `size`
tokens that start every `size - overlap` tokens. Cues closer than `overlap` tokens
(a minor word and a sexual word in one passage) always share a window, while words
pages apart in a long benign text are not joined into one request. Work is linear in
the length of the text: every token is matched at most size / (size - overlap) times.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WINDOW = 300  # tokens, about 1,500 characters of prose
DEFAULT_OVERLAP = 60


@dataclass(frozen=True)
class Window:
    index: int
    start: int  # token range
    end: int


def split_windows(n: int, size: int = DEFAULT_WINDOW, overlap: int = DEFAULT_OVERLAP) -> list[Window]:
    """Windows over n tokens; one window when n <= size (every prompt of ordinary length)."""
    if size < 2 or not 0 <= overlap < size:
        raise ValueError("the window must hold at least 2 tokens and the overlap must be smaller")
    if n <= size:
        return [Window(0, 0, n)]
    step = size - overlap
    out: list[Window] = []
    start = 0
    while True:
        end = min(n, start + size)
        out.append(Window(len(out), start, end))
        if end >= n:
            return out
        start += step
