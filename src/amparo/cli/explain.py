"""`amparo explain IMAGE`: every stage's output and the rule that fired, for one image."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, fail
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    @app.command()
    def explain(
        file: str,
        prompt: str = typer.Option(None, help="explain an edit request: this prompt + the image"),
        profile: str = typer.Option(None),
        json_out: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show the cascade: content, hashes, matches, each detector's scores, the policy's reasons."""
        from amparo.cli.context import open_service
        from amparo.content.video import is_video
        from amparo.domain.items import Context, Item

        svc = open_service(profile=profile)
        try:
            data = Path(file).read_bytes()
            ctx = Context(surface="cli", source=file)
            if is_video(data) and not prompt:
                item = Item.from_video(data, ctx)
            else:
                item = Item.from_edit(prompt, data, ctx) if prompt else Item.from_image(data, ctx)
            a = svc.pipeline.analyse(item)
            v = svc.pipeline.decide(item, a, record=False).to_dict()
        except (AmparoError, OSError) as e:
            raise fail(getattr(e, "message", str(e))) from None
        if json_out:
            emit(v, as_json=True)
            return
        d = a.decoded
        lines = [f"{file}"]
        if d is not None:
            lines.append(f"  content   {d.format} {d.width}x{d.height} mode={d.mode} frames={d.frame_count}")
        if a.video:
            vi = a.video.get("video", {})
            lines.append(
                f"  video     {vi.get('container')} {vi.get('codec')} {vi.get('width')}x{vi.get('height')}"
                f" {vi.get('frame_rate')} fps, {a.video['sampled_frames']} of {a.video['decoded_frames']} frames"
                f" hashed, flagged {a.video.get('flagged_ranges', [])}, worst frame t={a.video.get('worst_frame_t')}"
            )
        for st in v["stages"]:
            lines.append(
                f"  stage     {st['stage']:11} {'ran' if st['ran'] else 'skipped'} "
                f"{st['elapsed_ms']:.1f} ms {st.get('note') or ''}"
            )
        for s in v["signals"]:
            lines.append(
                f"  signal    {s['type']:7} {s['value']}" + (f" quality={s['quality']}" if "quality" in s else "")
            )
        for m in v["matches"]:
            lines.append(
                f"  match     {m['bank']} ({m['category']}) entry {m['entry_id']} distance {m['distance']}"
                f" <= {m['threshold']} opinion {m['opinion']}"
                + (
                    f" shares banked={m['video']['banked_share']} query={m['video']['query_share']}"
                    f" at {m['video']['query_ranges']}"
                    if m.get("video")
                    else ""
                )
            )
        for c in v["classifications"]:
            scores = " ".join(f"{k}={val:.3f}" for k, val in c["scores"].items())
            lines.append(f"  detector  {c['detector']:16} {scores} {('ERROR ' + c['error']) if c.get('error') else ''}")
        for r in v["reasons"]:
            ev = ", ".join(f"{k}={val}" for k, val in r["evidence"].items())
            lines.append(f"  rule      {r['rule']} → {r['decision']} {r['label'] or ''}  [{ev}]")
        lines.append(
            f"  verdict   {v['decision']} labels={','.join(v['labels']) or '-'} rule={v['rule'] or '-'}"
            f" actions={','.join(v['actions']) or '-'}"
        )
        print("\n".join(lines))
