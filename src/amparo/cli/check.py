"""`amparo check FILE...`: the full verdict per image or video (one JSON line each with --json)."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, error_result, fail, inputs
from amparo.errors import AmparoError

VIOLATING = ("block", "refuse")


def verdict_line(source: str, v: dict) -> str:  # type: ignore[type-arg]
    labels = ",".join(v["labels"]) or "-"
    return f"{source}: {v['decision']}  labels={labels}  rule={v.get('rule') or '-'}"


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        files: list[str] = typer.Argument(..., help="image files, or - for paths on stdin"),
        account: str = typer.Option(None),
        profile: str = typer.Option(None, help="jurisdiction profile"),
        record: bool = typer.Option(True, help="record an event per image"),
        stage: list[str] = typer.Option(
            [], "--stage", help="run this stage whatever the cascade decides (faces_age: audit the age stage)"
        ),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Check images: hashes, bank matches, detectors, policy verdict. Exit 1 if any is blocked.

        With --json, each face the age stage saw is printed under classifications[].details.faces:
        age, age_low, age_high (80% interval), p_minor (calibrated), minor (true/false/null when
        unsure), quality (size_px, blur, yaw, problems) and the models that voted."""
        from amparo.cli.context import open_service
        from amparo.content.video import is_video
        from amparo.domain.items import Context, Item
        from amparo.pipeline import FORCEABLE_STAGES

        bad = [s for s in stage if s not in FORCEABLE_STAGES]
        if bad:
            raise fail(f"unknown stage {bad[0]!r}; stages that can be forced: {', '.join(FORCEABLE_STAGES)}")
        svc = open_service(profile=profile)
        worst = 0
        for path in inputs(files):
            try:
                data = Path(path).read_bytes()
                ctx = Context(account=account, surface="cli", source=path)
                item = Item.from_video(data, ctx) if is_video(data) else Item.from_image(data, ctx)
                v = svc.pipeline.check(item, record=record, stages=tuple(stage)).to_dict()
                emit({"input": path, **v}, as_json=json_out, text=verdict_line(path, v))
                if v["decision"] in VIOLATING:
                    worst = max(worst, 1)
            except AmparoError as e:
                emit(error_result(path, e), as_json=True)
                worst = max(worst, 2)
            except OSError as e:
                emit({"input": path, "error": {"code": "unreadable", "message": str(e)}}, as_json=True)
                worst = max(worst, 2)
        raise typer.Exit(worst)
