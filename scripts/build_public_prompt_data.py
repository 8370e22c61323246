"""Rebuild the public prompt data (/work/data-public/prompts/) from fetched repository mirrors.

Run: python scripts/build_public_prompt_data.py [--mirrors /work/.mirror] [--out /work/data-public/prompts]

Each mirror is a bare snapshot of a public GitHub repository (as the `fetch` tool leaves it,
/work/.mirror/<owner>+<name>/repo); files are read with `git show HEAD:<path>`, nothing is
checked out. The data never goes into this repository: only this script and
docs/prompt-public-data.md (sources and licences) do.

Every output row is one JSON object: text, label (what the gate should answer, or "" where the
source gives no verdict), source, source_label (the source's own category), lang, split
(train/dev/test), group (rows of one group - the five captions of one image - share a split).
Splits are fixed by a hash of (source, group), so a rebuild gives the same split.

Sources whose licence does not allow training (no licence, non-commercial) are test-only.
Reserved sets (OpenAI samples-1680, I2P and its derivatives, PartiPrompts, DrawBench) are
never read.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import subprocess
from collections import Counter
from pathlib import Path

MIRRORS = Path("/work/.mirror")
OUT = Path("/work/data-public/prompts")


def _git_show(repo: Path, path: str) -> bytes:
    git_dir = repo / "repo"
    if (git_dir / ".git").is_dir():
        git_dir = git_dir / ".git"
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), "show", f"HEAD:{path}"], capture_output=True, check=True
    ).stdout


def _split(source: str, group: str, train: float, dev: float) -> str:
    """Deterministic split of a group: fraction `train` to train, `dev` to dev, the rest to test."""
    h = int(hashlib.sha256(f"{source}\0{group}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < train:
        return "train"
    return "dev" if h < train + dev else "test"


def _row(text: str, label: str, source: str, source_label: str, lang: str, split: str, group: str) -> dict[str, str]:
    return {
        "text": " ".join(text.split()),
        "label": label,
        "source": source,
        "source_label": source_label,
        "lang": lang,
        "split": split,
        "group": group,
    }


def coco(mirrors: Path) -> list[dict[str, str]]:
    """COCO 2017 val captions (CC BY 4.0 annotations): every caption, split by image 40/20/40."""
    raw = json.loads(_git_show(mirrors / "ruizewang+evaluate", "annotations/captions_val2017.json"))
    rows = []
    for a in raw["annotations"]:
        group = str(a["image_id"])
        rows.append(
            _row(a["caption"], "benign", "coco_val2017", "caption", "en", _split("coco", group, 0.4, 0.2), group)
        )
    return rows


def multi30k(mirrors: Path) -> list[dict[str, str]]:
    """Multi30k val + test captions in en/de/fr/cs (Flickr30k, non-commercial research): test only."""
    rows = []
    repo = mirrors / "multi30k+dataset"
    for part in ("val", "test_2016_flickr", "test_2017_flickr", "test_2018_flickr"):
        for lang in ("en", "de", "fr", "cs"):
            try:
                data = _git_show(repo, f"data/task1/raw/{part}.{lang}.gz")
            except subprocess.CalledProcessError:
                continue
            for i, line in enumerate(gzip.decompress(data).decode("utf-8").splitlines()):
                if line.strip():
                    rows.append(_row(line, "benign", f"multi30k_{lang}", "caption", lang, "test", f"{part}:{i}"))
    return rows


def krea(mirrors: Path) -> list[dict[str, str]]:
    """krea-ai/open-prompts 1k sample of real Stable Diffusion prompts (no licence stated): test only.

    The source gives no safety label, so `label` is empty; the bench reports what the gate says.
    """
    text = _git_show(mirrors / "krea-ai+open-prompts", "data/1k.csv").decode("utf-8")
    rows = []
    for i, r in enumerate(csv.DictReader(io.StringIO(text))):
        if r["prompt"].strip():
            rows.append(_row(r["prompt"], "", "krea_open_prompts", "unlabelled", "en", "test", str(i)))
    return rows


# AILuminate hazard -> the gate's label. Sex-related crimes (src) has no single gate label
# (trafficking questions, assault...): kept out of training, and scored only as "not csam".
AILUMINATE_LABELS = {"cse": "csam_request", "sxc_prn": "sexual_adult_request", "src": ""}


def ailuminate(mirrors: Path) -> list[dict[str, str]]:
    """MLCommons AILuminate v1.0 DEMO prompts (CC BY 4.0): en_US split 50/25/25, fr_FR test only."""
    rows = []
    for locale, lang in (("en_us", "en"), ("fr_fr", "fr")):
        text = _git_show(mirrors / "mlcommons+ailuminate", f"airr_official_1.0_demo_{locale}_prompt_set_release.csv")
        for r in csv.DictReader(io.StringIO(text.decode("utf-8"))):
            hazard = r["hazard"]
            label = AILUMINATE_LABELS.get(hazard, "benign")
            split = _split("ailuminate", r["release_prompt_id"], 0.5, 0.25) if lang == "en" else "test"
            rows.append(
                _row(r["prompt_text"], label, f"ailuminate_{locale}", hazard, lang, split, r["release_prompt_id"])
            )
    return rows


def grok_image_prompts(mirrors: Path) -> list[dict[str, str]]:
    """grok-spicy-mode/grok-nsfw-prompts image prompts (MIT): adult nude/erotic T2I prompts, test only."""
    md = _git_show(mirrors / "grok-spicy-mode+grok-nsfw-prompts", "prompts/image-generation-prompts.md").decode()
    rows = []
    for i, m in enumerate(re.finditer(r"^> (.+)$", md, flags=re.M)):
        text = m.group(1)
        if "grokprompts.app" in text:  # the advert line, not a prompt
            continue
        rows.append(_row(text, "sexual_adult_request", "grok_nsfw_image", "nsfw_image_prompt", "en", "test", str(i)))
    return rows


def xstest(mirrors: Path) -> list[dict[str, str]]:
    """paul-rottger/exaggerated-safety XSTest v2 prompts (CC BY 4.0), test only.

    250 safe prompts written to look unsafe ("How can I kill a Python process?", public figures'
    birthdays) are hard-benign free-form requests: label `benign`, source `xstest_safe`. Their 200
    unsafe contrasts (violence, drugs, privacy, discrimination...) mostly fall outside the gate's
    labels, so they carry no label (source `xstest_contrast`): the bench shows what the gate says.
    """
    text = _git_show(mirrors / "paul-rottger+exaggerated-safety", "xstest_prompts.csv").decode("utf-8")
    rows = []
    for r in csv.DictReader(io.StringIO(text)):
        safe = r["label"] == "safe"
        source = "xstest_safe" if safe else "xstest_contrast"
        rows.append(_row(r["prompt"], "benign" if safe else "", source, r["type"], "en", "test", r["id"]))
    return rows


# Universal Dependencies treebanks: sentences of news, fiction and wiki text in languages the gate
# has only hard-line lexicons for. (repository, test file, language, licence)
UD_TREEBANKS = (
    ("UniversalDependencies+UD_Dutch-Alpino", "nl_alpino-ud-test.conllu", "nl", "CC BY-SA 4.0"),
    ("UniversalDependencies+UD_Polish-PDB", "pl_pdb-ud-test.conllu", "pl", "CC BY-NC-SA 4.0"),
    ("UniversalDependencies+UD_Turkish-BOUN", "tr_boun-ud-test.conllu", "tr", "CC BY-SA 4.0"),
    ("UniversalDependencies+UD_Russian-GSD", "ru_gsd-ud-test.conllu", "ru", "CC BY-SA 4.0"),
)


def universal_dependencies(mirrors: Path) -> list[dict[str, str]]:
    """The `# text =` sentences of four UD test files: everyday public text in nl, pl, tr, ru,
    test only and unlabelled (news may speak of sex or abuse); the bench shows what the gate says."""
    rows = []
    for repo, path, lang, _licence in UD_TREEBANKS:
        text = _git_show(mirrors / repo, path).decode("utf-8")
        source = "ud_" + path.split("-ud-")[0]
        for i, line in enumerate(text.splitlines()):
            if line.startswith("# text = "):
                rows.append(_row(line[len("# text = ") :], "", source, "unlabelled", lang, "test", str(i)))
    return rows


BUILDERS = {
    "coco_val2017": coco,
    "multi30k": multi30k,
    "krea_open_prompts": krea,
    "ailuminate": ailuminate,
    "grok_nsfw_image": grok_image_prompts,
    "xstest": xstest,
    "universal_dependencies": universal_dependencies,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        rows = build(args.mirrors)
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        counts = Counter((r["source"], r["split"], r["label"] or "-") for r in rows)
        print(name, len(rows), dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
