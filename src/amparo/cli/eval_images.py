"""`amparo eval images --labels FILE.csv`: measure the image path on a labelled set."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def register_eval(eval_app: typer.Typer) -> None:
    @eval_app.command("images")
    def eval_images(
        labels: str = typer.Option(..., "--labels", help="CSV (path,label) or JSON Lines (path, label)"),
        profile: str = typer.Option(None),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Precision, recall, FPR and accuracy per label and per detector, with the confusion matrix."""
        from amparo.cli.context import open_service
        from amparo.evaluation.images import read_labels, run_eval

        try:
            p = Path(labels)
            items = read_labels(
                p.read_text(encoding="utf-8"), fmt="csv" if p.suffix == ".csv" else "jsonl", base=p.parent
            )
        except (AmparoError, OSError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        svc = open_service(profile=profile)
        out = run_eval(svc.pipeline, items)
        if json_out:
            emit(out, as_json=True)
            return
        lab = out["labels"]
        print(f"{out['evaluated']} of {out['images']} images evaluated; accuracy {_fmt(lab['accuracy'])}")
        print(f"{'label':18} {'support':>7} {'precision':>9} {'recall':>7} {'FPR':>7}")
        for name, s in lab["per_label"].items():
            if s["support"] or s["fp"]:
                print(
                    f"{name:18} {s['support']:7d} {_fmt(s['precision']):>9} {_fmt(s['recall']):>7} {_fmt(s['fpr']):>7}"
                )
        print("confusion (rows truth, columns predicted):")
        used = [
            k
            for k, row in lab["confusion"].items()
            if sum(row.values()) or any(r[k] for r in lab["confusion"].values())
        ]
        print(" " * 18 + "".join(f"{u[:10]:>11}" for u in used))
        for t in used:
            print(f"{t:18}" + "".join(f"{lab['confusion'][t][p]:11d}" for p in used))
        for det, rep in out["detectors"].items():
            s = rep["per_label"][det]
            print(
                f"detector {det:14} precision {_fmt(s['precision'])} recall {_fmt(s['recall'])} FPR {_fmt(s['fpr'])}"
                f" accuracy {_fmt(rep['accuracy'])} (n={rep['n']})"
            )
        for err in out["errors"]:
            print(f"error {err['path']}: {err['error']}")
