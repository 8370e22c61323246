"""`amparo scan PATH...`: hash and match every image and video under the paths; exit 1 on a csam/ncii
match. Videos are matched on their bytes and on their frames (the frame index: both shares and
the matched time ranges in each match's `video`)."""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from typing import Any

import typer

from amparo.cli.output import fail

SEVERE = ("csam", "ncii")


def register(app: typer.Typer) -> None:
    @app.command()
    def scan(
        paths: list[str] = typer.Argument(..., help="files and folders (- for paths on stdin)"),
        out: str = typer.Option("-", "--out", "-o", help="results file, - for stdout"),
        format: str = typer.Option("jsonl", help="jsonl | csv"),
        workers: int = typer.Option(0, help="worker processes (default: one per core)"),
        full: bool = typer.Option(False, help="run every detector and the policy, not only hashes"),
        all_files: bool = typer.Option(False, help="try every file, not only image suffixes"),
        progress: bool = typer.Option(True, help="progress bar on stderr"),
        json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    ) -> None:
        """Scan folders: hash, match (and with --full, classify) every image and video."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from amparo.batch.scan import scan_files, video_frames, walk
        from amparo.cli.context import open_service
        from amparo.cli.output import inputs
        from amparo.domain.signals import Signal
        from amparo.pipeline_video import video_thresholds

        if format not in ("jsonl", "csv"):
            raise fail("format must be jsonl or csv")
        # A path named on the command line that is not there is a usage error (exit 2), not an empty
        # scan: "0 matched" for a mistyped folder would read as "clean". Paths read from stdin that
        # have gone are reported per file and skipped, like unreadable files.
        missing = [p for p in paths if p != "-" and not os.path.exists(p)]
        if missing:
            raise fail(f"no such file or folder: {', '.join(missing[:5])}")
        svc = open_service(load_detectors=False)
        files = [str(p) for p in walk(inputs(paths), all_files=all_files)]
        n_workers = workers or (os.cpu_count() or 1)
        stream = sys.stdout if out == "-" else open(out, "w", newline="", encoding="utf-8")  # noqa: SIM115
        writer = csv.writer(stream) if format == "csv" else None
        if writer:
            writer.writerow(
                ["path", "status", "pdq", "pdq_quality", "md5", "sha256", "matches", "decision", "labels", "error"]
            )
        counts = {"files": len(files), "hashed": 0, "matched": 0, "severe": 0, "errors": 0}
        t0 = time.monotonic()
        bar = Progress(
            TextColumn("scan"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TextColumn("{task.fields[rate]:.1f} files/s"),
            TimeRemainingColumn(),
            transient=True,
            console=None,
            disable=not progress,
        )
        with bar:
            task = bar.add_task("scan", total=len(files), rate=0.0)
            for i, r in enumerate(scan_files(files, workers=n_workers, full=full), start=1):
                rec: dict[str, Any] = {"path": r.path}
                matches: list[dict[str, Any]] = []
                if r.error:
                    counts["errors"] += 1
                    rec.update(status="error", error=r.error)
                    sys.stderr.write(f"skipped {r.path}: {r.error}\n")
                elif r.verdict is not None:
                    counts["hashed"] += 1
                    matches = r.verdict["matches"]
                    rec.update(
                        status="checked",
                        decision=r.verdict["decision"],
                        labels=r.verdict["labels"],
                        rule=r.verdict["rule"],
                        signals=r.verdict["signals"],
                        matches=matches,
                    )
                else:
                    counts["hashed"] += 1
                    sig = r.signals or {}
                    sigs = [Signal("md5", sig["md5"]), Signal("sha1", sig["sha1"]), Signal("sha256", sig["sha256"])]
                    if sig.get("kind") == "video":
                        found = list(svc.matcher.lookup(sigs).matches)
                        found += svc.video_matcher.lookup_video(
                            video_frames(sig),
                            thresholds=video_thresholds(svc.pipeline),
                            interval=float(sig["sampling"]["seconds_per_hash"] or 1.0),
                        ).matches
                        matches = [m.to_dict() for m in found]
                    else:
                        sigs.insert(0, Signal("pdq", sig["pdq"], sig["pdq_quality"]))
                        matches = [m.to_dict() for m in svc.matcher.lookup(sigs).matches]
                    rec.update(status="hashed", signals=sig, matches=matches)
                if matches:
                    counts["matched"] += 1
                    if any(m["category"] in SEVERE for m in matches):
                        counts["severe"] += 1
                if writer:
                    s = rec.get("signals") or {}
                    if isinstance(s, list):
                        s = {x["type"]: x["value"] for x in s}
                    writer.writerow(
                        [
                            rec["path"],
                            rec["status"],
                            s.get("pdq", ""),
                            s.get("pdq_quality", ""),
                            s.get("md5", ""),
                            s.get("sha256", ""),
                            ";".join(f"{m['bank']}:{m['entry_id']}:{m['distance']}" for m in matches),
                            rec.get("decision", ""),
                            ",".join(rec.get("labels", [])),
                            rec.get("error", ""),
                        ]
                    )
                else:
                    stream.write(json.dumps(rec, default=str) + "\n")
                elapsed = time.monotonic() - t0
                bar.update(task, advance=1, rate=i / elapsed if elapsed else 0.0)
        if stream is not sys.stdout:
            stream.close()
        elapsed = time.monotonic() - t0
        summary = {
            **counts,
            "seconds": round(elapsed, 3),
            "files_per_second": round(len(files) / elapsed, 2) if elapsed else None,
            "workers": n_workers,
        }
        sys.stderr.write(
            json.dumps(summary) + "\n"
            if json_out
            else f"scanned {counts['files']} files in {elapsed:.1f}s: {counts['matched']} matched "
            f"({counts['severe']} csam/ncii), {counts['errors']} unreadable\n"
        )
        raise typer.Exit(1 if counts["severe"] else 0)
