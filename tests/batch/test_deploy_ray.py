"""deploy/ray: the cluster YAML passes Ray's own schema check, and the KubeRay RayJob's entrypoint
is a real `amparo scan-dataset` command line whose options the verb accepts."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import typer
import yaml

from amparo.cli.main import VERBS, app

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "ray"


def parse_amparo(argv: list[str]) -> None:
    """Parse an amparo command line with the real CLI (raises click's UsageError on an unknown verb
    or option) without running it."""
    assert argv[0] == "amparo"
    assert argv[1] in VERBS, argv[1]
    group = typer.main.get_command(app)
    cmd = group.get_command(None, argv[1])  # type: ignore[attr-defined, arg-type]
    cmd.make_context(argv[1], argv[2:])


def test_cluster_yaml_passes_rays_schema() -> None:
    from ray.autoscaler._private.util import prepare_config, validate_config

    doc = yaml.safe_load((DEPLOY / "cluster.yaml").read_text())
    validate_config(prepare_config(doc))
    assert any("ray start --head" in c for c in doc["head_start_ray_commands"])
    assert any("amparo[dataset" in c for c in doc["setup_commands"])
    broken = dict(doc, max_workers="many")  # the check can fail
    with pytest.raises(Exception):  # noqa: B017 - Ray raises jsonschema's ValidationError
        validate_config(prepare_config(broken))


def test_rayjob_entrypoint_is_a_real_scan_dataset_command() -> None:
    doc = yaml.safe_load((DEPLOY / "rayjob.yaml").read_text())
    assert doc["apiVersion"] == "ray.io/v1" and doc["kind"] == "RayJob"
    argv = shlex.split(doc["spec"]["entrypoint"])
    assert argv[1] == "scan-dataset" and "--address" in argv
    parse_amparo(argv)
    with pytest.raises(Exception):  # noqa: B017 - click's NoSuchOption: the parse can fail
        parse_amparo([*argv, "--no-such-option"])
    cluster = doc["spec"]["rayClusterSpec"]
    pods = [cluster["headGroupSpec"]["template"]] + [g["template"] for g in cluster["workerGroupSpecs"]]
    for pod in pods:
        (container,) = pod["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert "secretKeyRef" in env["AMPARO_DATABASE_URL"]["valueFrom"]  # no credentials inline
        assert env["OMP_NUM_THREADS"]["value"] == "1"
        assert [m["mountPath"] for m in container["volumeMounts"]] == ["/data"]
    assert argv[2].startswith("/data/") and argv[argv.index("--out") + 1].startswith("/data/")


def test_url_sha256_signal_type() -> None:
    from amparo.errors import BadInput
    from amparo.signals.hashes.url import URL_SHA256, canonical_url, url_sha256

    assert canonical_url("HTTPS://Images.Example.ORG:443/a/B.jpg?x=1#frag") == "https://images.example.org/a/B.jpg?x=1"
    assert canonical_url("http://example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/x") == "http://example.org:8080/x"
    assert URL_SHA256.normalise(" https://example.org/a.jpg ") == url_sha256("https://EXAMPLE.org/a.jpg#top")
    assert URL_SHA256.normalise("A" * 64) == "a" * 64
    for bad in ("ftp://example.org/a", "not a url", "https://", "ab" * 20):
        with pytest.raises(BadInput):
            URL_SHA256.normalise(bad)

    # A URL list imported as lines: each URL is canonicalised and hashed on the way in.
    from amparo.banks.formats import parse_entries
    from amparo.signals.registry import default_signal_registry

    text = "https://Example.org/a.jpg\n\nhttp://example.org:80/b.jpg#x\n"
    parsed = parse_entries(text, fmt="lines", registry=default_signal_registry(), signal_type="url_sha256")
    assert [(e.signal_type, e.value) for e in parsed.entries] == [
        ("url_sha256", url_sha256("https://example.org/a.jpg")),
        ("url_sha256", url_sha256("http://example.org/b.jpg")),
    ]
