"""The shipped labelled prompt data set: data/<lang>.jsonl, one row per prompt.

Fields: text, label, lang, split (train/dev/test), hard (true for benign-looking
cases that a naive filter gets wrong), note. Short, clinical phrasings only.

Public rows (real captions, prompts and moderation sets that nobody here wrote) live outside
the repository, in PUBLIC_DIR/<name>.jsonl, rebuilt by scripts/build_public_prompt_data.py;
docs/prompt-public-data.md lists their sources and licences. They add `source`; an empty
label means the source gives no verdict (such rows are measured, never trained on).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amparo.errors import BadInput

from .ages import LANGUAGES

DATA_DIR = Path(__file__).parent / "data"
PUBLIC_DIR = Path(os.environ.get("AMPARO_PUBLIC_PROMPTS", "/work/data-public/prompts"))
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class PromptRow:
    text: str
    label: str
    lang: str
    split: str = "test"
    hard: bool = False
    note: str = ""
    source: str = "shipped"


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file; a bad line is a BadInput."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{n}: not JSON ({exc})") from exc
        if not isinstance(raw, dict):
            raise BadInput(f"{path}:{n}: expected a JSON object")
        yield n, raw


def read_rows(path: Path) -> Iterator[PromptRow]:
    """Rows of a JSON Lines file with at least `text` and `label`."""
    for n, raw in json_objects(path):
        try:
            yield PromptRow(
                text=str(raw["text"]),
                label=str(raw["label"]),
                lang=str(raw.get("lang", "und")),
                split=str(raw.get("split", "test")),
                hard=bool(raw.get("hard", False)),
                note=str(raw.get("note", "")),
                source=str(raw.get("source", "shipped")),
            )
        except (KeyError, TypeError) as exc:
            raise BadInput(f"{path}:{n}: expected a JSON object with text and label ({exc})") from exc


def load_dataset(splits: Iterable[str] = SPLITS, languages: Iterable[str] = LANGUAGES) -> list[PromptRow]:
    wanted = set(splits)
    rows: list[PromptRow] = []
    for lang in languages:
        rows += [r for r in read_rows(DATA_DIR / f"{lang}.jsonl") if r.split in wanted]
    return rows


def load_public(
    splits: Iterable[str] = SPLITS, directory: Path = PUBLIC_DIR, *, labelled: bool = True
) -> list[PromptRow]:
    """Public rows of the given splits from every <name>.jsonl in `directory` ([] if it is absent).

    `labelled` keeps only rows whose source gives a verdict (the ones that can be trained on).
    """
    wanted = set(splits)
    rows: list[PromptRow] = []
    if not directory.is_dir():
        return rows
    for path in sorted(directory.glob("*.jsonl")):
        rows += [r for r in read_rows(path) if r.split in wanted and (r.label or not labelled)]
    return rows
