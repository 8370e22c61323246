"""Rebuild lexicon/names_first.txt and lexicon/names_last.txt from `names-dataset`.

    pip install names-dataset        # MIT; its wheel ships the data (needs ~3 GB RAM to load)
    python -m amparo.signals.classifiers.prompt.build_names

The gate never loads names-dataset itself (3 GB is too much for a request path): this
keeps the names that rank in the top `TOP_FIRST` / `TOP_LAST` of a country where the
supported languages are spoken, folded like prompt text, one a line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .normalise import LEXICON_DIR, normalise_text

# Countries whose people write in es, ca, gl, eu, en, fr, pt, it or de, and large
# English-speaking ones whose public figures appear in prompts everywhere.
COUNTRIES = (
    "ES",
    "FR",
    "PT",
    "IT",
    "DE",
    "AT",
    "CH",
    "BE",
    "LU",
    "AD",
    "GB",
    "IE",
    "US",
    "CA",
    "AU",
    "BR",
    "AR",
    "MX",
    "CO",
    "CL",
    "PE",
    "VE",
    "UY",
)
TOP_FIRST = 1500
TOP_LAST = 2500
FIRST_FILE = LEXICON_DIR / "names_first.txt"
LAST_FILE = LEXICON_DIR / "names_last.txt"


def _fold(name: str) -> str:
    return "".join(c for c in normalise_text(name) if c.isalpha())


def _keep(table: dict[str, dict[str, dict[str, int]]], top: int) -> list[str]:
    """ "name<TAB>best rank" lines: the rank lets the gate trust only popular names in lowercase."""
    kept: dict[str, int] = {}
    for name, info in table.items():
        ranks = info.get("rank") or {}
        best = min((ranks[c] for c in COUNTRIES if c in ranks and ranks[c] is not None), default=top + 1)
        if best <= top:
            folded = _fold(name)
            if len(folded) >= 2:
                kept[folded] = min(best, kept.get(folded, best))
    return [f"{n}\t{r}" for n, r in sorted(kept.items())]


def _write(path: Path, names: list[str]) -> None:
    header = "# derived from names-dataset 3.3.1 (MIT, github.com/philipperemy/name-dataset); see build_names.py\n"
    path.write_text(header + "\n".join(names) + "\n", "utf-8")


def main() -> None:
    try:
        from names_dataset import NameDataset
    except ImportError:
        sys.exit("pip install names-dataset first")
    nd = NameDataset()
    _write(FIRST_FILE, _keep(nd.first_names, TOP_FIRST))
    _write(LAST_FILE, _keep(nd.last_names, TOP_LAST))
    print(f"wrote {FIRST_FILE.name} and {LAST_FILE.name}")


if __name__ == "__main__":
    main()
