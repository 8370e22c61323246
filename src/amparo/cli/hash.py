"""`amparo hash FILE...`: print the signals of each image (one JSON line each)."""

from __future__ import annotations

from pathlib import Path

import typer

from amparo.cli.output import emit, error_result, inputs
from amparo.errors import AmparoError


def register(app: typer.Typer) -> None:
    @app.command("hash")
    def hash_(
        files: list[str] = typer.Argument(..., help="image files, or - for paths on stdin"),
        json_out: bool = typer.Option(False, "--json"),
        seconds_per_hash: float = typer.Option(1.0, help="videos: seconds between hashed frames (0: every frame)"),
    ) -> None:
        """Hash images (PDQ with quality, MD5, SHA-1, SHA-256) and videos (vPDQ, MD5, SHA-256).

        A video's text output is the reference vPDQ file: frame_number,quality,hash,timestamp lines."""
        from amparo.content.images import decode_image
        from amparo.content.video import is_video
        from amparo.signals.registry import default_signal_registry

        reg = default_signal_registry()
        failed = 0
        for path in inputs(files):
            try:
                data = Path(path).read_bytes()
                if is_video(data):
                    _hash_video(path, data, seconds_per_hash, json_out)
                    continue
                decoded = decode_image(data)
                sigs = [h.hash_image(decoded, data) for h in reg]
                out = {"input": path, "signals": [s.to_dict() for s in sigs if s]}
                text = (
                    path
                    + "  "
                    + "  ".join(
                        f"{s.type}={s.value}" + (f" q={s.quality}" if s.quality is not None else "") for s in sigs if s
                    )
                )
                emit(out, as_json=json_out, text=text)
            except AmparoError as e:
                failed += 1
                emit(error_result(path, e), as_json=True)
            except OSError as e:
                failed += 1
                emit({"input": path, "error": {"code": "unreadable", "message": str(e)}}, as_json=True)
        if failed:
            raise typer.Exit(2)


def _hash_video(path: str, data: bytes, seconds_per_hash: float, json_out: bool) -> None:
    from amparo.content.video import Sampling
    from amparo.pipeline_video import video_signals
    from amparo.signals.hashes.vpdq import format_reference_lines, hash_video

    vh = hash_video(data, sampling=Sampling(seconds_per_hash))
    sigs = video_signals(vh)
    out = {"input": path, "signals": [s.to_dict() for s in sigs], "vpdq": vh.to_dict()}
    head = f"# {path}  " + "  ".join(f"{s.type}={s.value}" for s in sigs) + f"  vpdq={len(vh.frames)} frames\n"
    emit(out, as_json=json_out, text=head + format_reference_lines(vh.frames).rstrip("\n"))
