"""The shipped labelled prompt data set: data/<lang>.jsonl, one row per prompt.

Fields: text, label, lang, split (train/dev/test), hard (true for benign-looking
cases that a naive filter gets wrong), note. Short, clinical phrasings only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from amparo.errors import BadInput

from .ages import LANGUAGES

DATA_DIR = Path(__file__).parent / "data"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PromptRow:
    text: str
    label: str
    lang: str
    split: str = "test"
    hard: bool = False
    note: str = ""


def read_rows(path: Path) -> Iterator[PromptRow]:
    """Rows of a JSON Lines file with at least `text` and `label`."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            yield PromptRow(
                text=str(raw["text"]),
                label=str(raw["label"]),
                lang=str(raw.get("lang", "und")),
                split=str(raw.get("split", "test")),
                hard=bool(raw.get("hard", False)),
                note=str(raw.get("note", "")),
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise BadInput(
                f"{path}:{n}: expected a JSON object with text and label ({exc})"
            ) from exc


def load_dataset(
    splits: Iterable[str] = SPLITS, languages: Iterable[str] = LANGUAGES
) -> list[PromptRow]:
    wanted = set(splits)
    rows: list[PromptRow] = []
    for lang in languages:
        rows += [r for r in read_rows(DATA_DIR / f"{lang}.jsonl") if r.split in wanted]
    return rows
