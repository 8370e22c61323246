import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from amparo.cli import check_prompt, eval_prompts


def _app() -> typer.Typer:
    app = typer.Typer()
    check_prompt.register(app)
    eval_app = typer.Typer()
    eval_prompts.register_eval(eval_app)
    app.add_typer(eval_app, name="eval")
    return app


def test_check_prompt_json_lines() -> None:
    result = CliRunner().invoke(
        _app(), ["check-prompt", "--json", "a cat on a sofa", "undress her"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert [x["label"] for x in lines] == ["benign", "nudify_request"]


def test_check_prompt_reads_stdin_and_prints_text() -> None:
    result = CliRunner().invoke(_app(), ["check-prompt", "-"], input="a cat\nkid gloves\n")
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == 2 and result.output.startswith("benign")


def test_eval_prompts_on_a_file(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    rows = [
        {"text": "a cat on a sofa", "label": "benign", "lang": "en"},
        {"text": "undress her", "label": "nudify_request", "lang": "en"},
    ]
    f.write_text("\n".join(json.dumps(r) for r in rows))
    result = CliRunner().invoke(_app(), ["eval", "prompts", str(f), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["overall"]["accuracy"] == 1.0
    assert out["languages"]["en"]["recall"]["nudify_request"] == 1.0


def test_eval_prompts_text_report_has_confusion_matrix(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    f.write_text(json.dumps({"text": "a cat", "label": "benign"}) + "\n")
    result = CliRunner().invoke(_app(), ["eval", "prompts", str(f), "--obfuscate"])
    assert result.exit_code == 0, result.output
    assert "confusion" in result.output and "precision" in result.output


def test_eval_prompts_rejects_bad_files(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text("not json\n")
    result = CliRunner().invoke(_app(), ["eval", "prompts", str(f)])
    assert result.exit_code == 2
