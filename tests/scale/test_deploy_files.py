"""deploy/: what this machine can check without Docker or Helm. The Compose file and the chart parse,
every command names a real `amparo` verb, every AMPARO_* variable is a real setting, the load
balancer points at the API's port, and the chart's templates render (a small renderer for the
template subset the chart uses) into Kubernetes objects that do the same."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

from amparo.cli.main import VERBS
from amparo.integrity.mac import KEY_ENV
from amparo.settings import Settings

DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "amparo"
# read by the code itself, not by Settings
EXTRA_ENV = {KEY_ENV}


def _check_setting(name: str) -> None:
    assert name.startswith("AMPARO_"), name
    field = name.removeprefix("AMPARO_").lower()
    assert field in Settings.model_fields or name in EXTRA_ENV, f"{name} is not an Amparo setting"


def _check_command(args: list[str]) -> None:
    assert args and args[0] in VERBS, f"{args!r}: not an amparo verb"
    from typer.main import get_command

    from amparo.cli.main import app

    group: Any = get_command(app)
    import click

    ctx = click.Context(group)
    cmd = group.get_command(ctx, args[0])
    assert cmd is not None, args
    options = {o for p in cmd.params for o in getattr(p, "opts", [])}
    for a in args[1:]:
        if a.startswith("--"):
            assert a in options, f"{args[0]} has no option {a}"


def test_compose_file() -> None:
    doc = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = doc["services"]
    assert {"postgres", "api", "lb", "proxy", "init"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    for name, svc in services.items():
        if svc.get("image", "").startswith("amparo"):
            _check_command(svc["command"])
            for var in svc["environment"]:
                _check_setting(var)
            assert "/data/keys" in " ".join(svc["volumes"]) and "/data/evidence" in " ".join(svc["volumes"]), name
    assert services["api"]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    assert f"server api:{api_port}" in nginx and "proxy_next_upstream" in nginx
    assert nginx.count("{") == nginx.count("}")
    example = (DEPLOY / "compose" / "env.example").read_text()
    for line in example.splitlines():
        if line.startswith("AMPARO_"):
            _check_setting(line.split("=", 1)[0])


def test_dockerfile() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    for m in re.finditer(r"^COPY\s+(.+)\s+\S+$", text, re.M):
        for src in m.group(1).split():
            assert (REPO / src).exists(), f"COPY {src}: not in the repository"
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert entry == ["amparo"]
    _check_command(cmd)
    for var in re.findall(r"\b(AMPARO_[A-Z_]+)=", text):
        _check_setting(var)


# ------------------------------------------------------------------ a renderer for the chart's subset


class _Renderer:
    ACTION = re.compile(r"(\s*)\{\{(-?)\s*(.*?)\s*(-?)\}\}")

    def __init__(self, values: dict[str, Any]) -> None:
        self.ctx = {
            "Values": values,
            "Release": {"Name": "rel", "Revision": 1},
            "Chart": yaml.safe_load((CHART / "Chart.yaml").read_text()) | {"AppVersion": "0.1.0"},
        }
        helpers = (CHART / "templates" / "_helpers.tpl").read_text()
        self.defines = dict(re.findall(r'\{\{- define "([^"]+)" -\}\}\n(.*?)\n\{\{- end -\}\}', helpers, re.S))

    def _path(self, expr: str) -> Any:
        cur: Any = self.ctx
        for part in expr.lstrip(".").split("."):
            assert isinstance(cur, dict) and part in cur, f"{expr}: not in values"
            cur = cur[part]
        return cur

    def _pipeline(self, expr: str) -> str:
        stages = [s.strip() for s in expr.split("|")]
        head = stages[0]
        if head.startswith("include "):
            name = re.match(r'include "([^"]+)" \.', head).group(1)  # type: ignore[union-attr]
            value: Any = self.render(self.defines[name]).strip()
        elif head.startswith("toYaml "):
            value = yaml.safe_dump(self._path(head.split()[1]), default_flow_style=False, sort_keys=False).rstrip()
        elif head.startswith("printf "):
            value = "rel-amparo"
        else:
            value = self._path(head)
        for st in stages[1:]:
            fn, *args = st.split()
            if fn == "quote":
                value = json.dumps(str(value))
            elif fn == "nindent":
                pad = " " * int(args[0])
                value = "\n" + "\n".join(pad + line for line in str(value).splitlines())
            elif fn == "sha256sum":
                value = hashlib.sha256(str(value).encode()).hexdigest()
            elif fn in ("trunc", "trimSuffix"):
                pass
            else:
                raise AssertionError(f"unsupported template function {fn}")
        return str(value)

    def render(self, text: str) -> str:
        out: list[str] = []
        skipping: list[bool] = []
        pos = 0
        for m in self.ACTION.finditer(text):
            lead, trim_left, expr, _ = m.groups()
            chunk = text[pos : m.start()] + ("" if trim_left else lead)
            if not any(skipping):
                out.append(chunk)
            pos = m.end()
            if expr.startswith("if "):
                cond = expr[3:].strip()
                neg = cond.startswith("not ")
                val = bool(self._path(cond[4:] if neg else cond))
                skipping.append(val if neg else not val)
            elif expr == "end":
                assert skipping, "unbalanced {{ end }}"
                skipping.pop()
            elif not any(skipping):
                out.append(self._pipeline(expr))
        assert not skipping, "unclosed {{ if }}"
        out.append(text[pos:])
        return "".join(out)


def _render_chart(values: dict[str, Any]) -> list[dict[str, Any]]:
    r = _Renderer(values)
    docs: list[dict[str, Any]] = []
    for path in sorted((CHART / "templates").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(r.render(path.read_text())) if d]
    return docs


def test_helm_chart_renders() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "amparo"
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    docs = _render_chart(values)
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "rel-amparo-api") in kinds and ("Service", "rel-amparo-api") in kinds
    assert ("Job", "rel-amparo-migrate-1") in kinds and ("ConfigMap", "rel-amparo-settings") in kinds
    assert not any(k == "HorizontalPodAutoscaler" for k, _ in kinds)  # off by default
    by_kind = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    api = by_kind[("Deployment", "rel-amparo-api")]
    assert api["spec"]["replicas"] >= 2
    job = by_kind[("Job", "rel-amparo-migrate-1")]
    assert "pre-install" in job["metadata"]["annotations"]["helm.sh/hook"]
    for d in docs:
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            _check_command(c["args"])
            for e in c.get("env", []):
                _check_setting(e["name"])
            refs = [x for x in c["envFrom"] if "configMapRef" in x]
            assert refs[0]["configMapRef"]["name"] == "rel-amparo-settings"
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            assert {"/data/keys", "/data/evidence"} <= mounts
    for name in by_kind[("ConfigMap", "rel-amparo-settings")]["data"]:
        _check_setting(name)
    # with autoscaling on, the HPA appears and the Deployment leaves replicas to it
    values["autoscaling"]["enabled"] = True
    docs = _render_chart(values)
    assert any(d["kind"] == "HorizontalPodAutoscaler" for d in docs)
    assert "replicas" not in next(d for d in docs if d["metadata"]["name"] == "rel-amparo-api")["spec"]


def test_renderer_refuses_unknown_values() -> None:
    with pytest.raises(AssertionError, match="not in values"):
        _Renderer({}).render("x: {{ .Values.nothing }}")


def test_service_selects_the_api_pods() -> None:
    docs = _render_chart(yaml.safe_load((CHART / "values.yaml").read_text()))
    svc = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "rel-amparo-api")
    api = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "rel-amparo-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items())
    assert api["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_files_exist() -> None:
    for p in ("Dockerfile", "compose/compose.yaml", "compose/nginx.conf", "helm/amparo/values.yaml"):
        assert (DEPLOY / p).is_file(), p
    assert Path(CHART / "templates" / "job-migrate.yaml").is_file()
