"""Long texts are read in overlapping windows, so a story or a chat log gets a verdict.

Each window is at most `size` characters and starts `size - overlap` characters after
the previous one, moved back to a whitespace so that no word is cut in two; the overlap
keeps a minor word and a sexual word that sit close together in one window. The work is
linear in the length of the text (every character is read at most twice when the
overlap is under half a window).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WINDOW = 4000
DEFAULT_OVERLAP = 400
# How far back from a window edge we look for whitespace before cutting inside a word.
_SNAP = 100


@dataclass(frozen=True)
class Window:
    index: int
    start: int
    end: int


def _snap_back(text: str, pos: int, floor: int) -> int:
    """The nearest whitespace at or before `pos` (not before `floor`), else `pos`."""
    for i in range(pos, max(floor, pos - _SNAP), -1):
        if text[i - 1].isspace():
            return i
    return pos


def split_windows(text: str, size: int = DEFAULT_WINDOW, overlap: int = DEFAULT_OVERLAP) -> list[Window]:
    if size < 1 or not 0 <= overlap < size // 2 + 1:
        raise ValueError("window size must be positive and the overlap under half a window")
    n = len(text)
    if n <= size:
        return [Window(0, 0, n)]
    out: list[Window] = []
    start = 0
    while True:
        end = min(n, start + size)
        if end < n:
            end = _snap_back(text, end, start + size // 2)
        out.append(Window(len(out), start, end))
        if end >= n:
            return out
        start = _snap_back(text, max(end - overlap, start + 1), start + 1)
