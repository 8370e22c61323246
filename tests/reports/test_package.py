"""Evidence packages: complete, held, verifiable offline, and a single flipped byte is named."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import IN_CI
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from amparo.errors import BadInput
from amparo.reports.package import Scope, build_package, unseal_with
from amparo.reports.package_verify import verify_package
from amparo.store import evidence_repo
from reports.conftest import benign_png, confirmed_case, make_actor


def build(service, scope: Scope, **kw):  # type: ignore[no-untyped-def]
    return build_package(
        db=service.db,
        vault=service.vault,
        audit=service.audit,
        scope=scope,
        actor="cli:ada",
        actor_role="admin",
        purpose="Fiscalía order 12/2026",
        **kw,
    )


def test_case_package_is_complete_held_and_verifies(service, tmp_path: Path) -> None:
    rita = make_actor(service, "rita", "reviewer")
    case_id = confirmed_case(service, rita)
    pkg_id, data = build(service, Scope(case_id=case_id))
    path = tmp_path / "pkg.zip"
    path.write_bytes(data)
    res = verify_package(path)
    assert res.ok, res.problems
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        items = json.loads(z.read("records/items.json"))
        decisions = json.loads(z.read("records/decisions.json"))
        custody = z.read("custody/audit_excerpt.jsonl").decode()
        pdf = z.read("summary.pdf")
        [item_name] = [n for n in names if n.startswith("items/")]
        assert z.read(item_name) == benign_png(1)
    assert {
        "SHA256SUMS",
        "SHA256SUMS.sig",
        "manifest.json",
        "keys/audit_ed25519_public.pem",
        "custody/checkpoint.json",
        "custody/checkpoint.sig",
    } <= names
    assert items[0]["sha256"] and decisions[0]["reviewer_outcome"] == "confirm"
    assert decisions[0]["decisions"][0]["reviewer"] == "rita"
    assert "evidence.reveal" in custody and "case.decide" in custody
    assert pdf.startswith(b"%PDF-1.4") and b"Paquete de pruebas" in pdf and b"Evidence package" in pdf
    with service.db.session() as s:
        holds = evidence_repo.active_holds(s, ref=items[0]["ref"], now=datetime.now(UTC))
        assert any(pkg_id in h.reason for h in holds)


@pytest.mark.parametrize("target", ["items/", "records/decisions.json", "SHA256SUMS", "custody/audit_excerpt.jsonl"])
def test_a_single_flipped_byte_is_named(service, tmp_path: Path, target: str) -> None:
    rita = make_actor(service, "rita", "reviewer")
    _, data = build(service, Scope(case_id=confirmed_case(service, rita)))
    folder = tmp_path / "pkg"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(folder)
    victim = next(
        p for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).as_posix().startswith(target)
    )
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    victim.write_bytes(bytes(raw))
    res = verify_package(folder)
    assert not res.ok
    assert res.bad_files[0] == victim.relative_to(folder).as_posix()


def test_flipped_byte_inside_the_zip_is_named(service, tmp_path: Path) -> None:
    rita = make_actor(service, "rita", "reviewer")
    _, data = build(service, Scope(case_id=confirmed_case(service, rita)))
    z = zipfile.ZipFile(io.BytesIO(data))
    info = next(i for i in z.infolist() if i.filename.startswith("items/"))
    raw = bytearray(data)
    raw[info.header_offset + 30 + len(info.filename) + info.file_size // 2] ^= 0x80  # stored data
    path = tmp_path / "pkg.zip"
    path.write_bytes(bytes(raw))
    res = verify_package(path)
    assert not res.ok and res.bad_files == [info.filename]


def test_manual_procedure_with_sha256sum_and_openssl(service, tmp_path: Path) -> None:
    if not shutil.which("openssl") or not shutil.which("sha256sum"):
        if IN_CI:
            pytest.fail("CI must run the no-Amparo procedure: openssl or sha256sum is missing")
        pytest.skip("needs openssl and sha256sum")
    rita = make_actor(service, "rita", "reviewer")
    _, data = build(service, Scope(case_id=confirmed_case(service, rita)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(tmp_path)
    sums = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    cmd = [
        "openssl",
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        "keys/audit_ed25519_public.pem",
        "-rawin",
        "-in",
        "SHA256SUMS",
        "-sigfile",
        "SHA256SUMS.sig",
    ]
    assert subprocess.run(cmd, cwd=tmp_path, capture_output=True).returncode == 0
    cp = cmd[:-4] + ["-in", "custody/checkpoint_body.json", "-sigfile", "custody/checkpoint.sig"]
    assert subprocess.run(cp, cwd=tmp_path, capture_output=True).returncode == 0
    (tmp_path / "SHA256SUMS").write_bytes((tmp_path / "SHA256SUMS").read_bytes().replace(b"items", b"itemz", 1))
    assert subprocess.run(cmd, cwd=tmp_path, capture_output=True).returncode != 0


def test_sealed_package_opens_only_with_the_recipient_key(service, tmp_path: Path) -> None:
    rita = make_actor(service, "rita", "reviewer")
    case_id = confirmed_case(service, rita)
    private = X25519PrivateKey.generate()
    _, data = build(service, Scope(case_id=case_id), recipient=private.public_key())
    path = tmp_path / "pkg.zip"
    path.write_bytes(data)
    assert verify_package(path).ok
    with zipfile.ZipFile(path) as z:
        [name] = [n for n in z.namelist() if n.startswith("items/")]
        assert name.endswith(".sealed")
        ref = name.split("/")[1].split(".")[0]
        assert unseal_with(private, z.read(name), ref.encode()) == benign_png(1)
        with pytest.raises(InvalidTag):
            unseal_with(X25519PrivateKey.generate(), z.read(name), ref.encode())


def test_account_and_range_scopes_and_bad_scope(service) -> None:
    rita = make_actor(service, "rita", "reviewer")
    confirmed_case(service, rita, seed=1, account="acct-a")
    confirmed_case(service, rita, seed=2, account="acct-b")
    _, data = build(service, Scope(account="acct-a"))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert len([n for n in z.namelist() if n.startswith("items/")]) == 1
    now = datetime.now(UTC)
    _, data = build(service, Scope(start=now - timedelta(hours=1), end=now + timedelta(hours=1)))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert len([n for n in z.namelist() if n.startswith("items/")]) == 2
    with pytest.raises(BadInput):
        build(service, Scope(case_id=1, account="x"))


def test_summary_pdf_is_well_formed_and_bilingual() -> None:
    import re

    from amparo.reports.pdf import render_pdf

    pdf = render_pdf([("h", "Paquete de pruebas"), ("p", "Fiscalía " * 1000), ("h", "Evidence package")], title="t")
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    xref_at = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[xref_at:].startswith(b"xref\n")
    count = int(pdf[xref_at:].split(b"\n")[1].split()[1])
    offsets = [int(line[:10]) for line in pdf[xref_at:].split(b"\n")[3 : 3 + count - 1]]
    for n, off in enumerate(offsets, start=1):  # every object where the table says it is
        assert pdf[off:].startswith(f"{n} 0 obj".encode())
    for m in re.finditer(rb"<< /Length (\d+) >>\nstream\n", pdf):  # stream lengths are exact
        end = m.end() + int(m.group(1))
        assert pdf[end:].startswith(b"\nendstream")
    assert b"Fiscal\xeda" in pdf  # WinAnsi: Spanish accents print
    assert b"/Count 2" in pdf or b"/Count 3" in pdf  # long text flows onto more pages


def test_generated_item_brings_its_ledger_record_with_the_decrypted_prompt(service, ncmec, tmp_path: Path) -> None:
    import hashlib

    from amparo.proxy.ledger import GenerationLedger, LedgerEntry, OutputRecord
    from amparo.reports.service import build_reports

    rita = make_actor(service, "rita", "reviewer")
    sha = hashlib.sha256(benign_png(3)).hexdigest()
    ledger = GenerationLedger.for_service(service)
    ledger.record(
        LedgerEntry(
            generation_id="gen_test1",
            operation="generation",
            account="acct-42",
            request_hash="0" * 64,
            decision="allow",
            prompt="a watercolour landscape with hills",
            outputs=[OutputRecord(index=0, sha256=sha, pdq=None, watermark_id=7, decision="allow", returned=True)],
            model="stand-in-model",
        )
    )
    case_id = confirmed_case(service, rita, seed=3, ip=None)
    reports = build_reports(service)
    _, data = build(service, Scope(case_id=case_id), read_prompt=reports.read_prompt())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        [gen] = json.loads(z.read("records/ledger.json"))
        decisions = json.loads(z.read("records/decisions.json"))
    assert gen["prompt"] == "a watercolour landscape with hills" and gen["model"] == "stand-in-model"
    assert decisions[0]["files"][0]["generation_ids"] == ["gen_test1"] and decisions[0]["generated"]
    # and the CyberTipline file details flag it as generative AI, with the generation id
    from amparo.reports.exporters import ExporterRegistry, ReportQueue
    from amparo.reports.ncmec_client import NcmecClient, NcmecExporter
    from amparo.reports.ncmec_xml import Reporter

    reg = ExporterRegistry()
    reg.register(
        NcmecExporter(NcmecClient(ncmec[0], "esp", "secret", backoff_seconds=0.01), Reporter("T", "S", "t@x.example"))
    )
    [res] = ReportQueue(db=service.db, audit=service.audit, vault=service.vault, registry=reg).process()
    assert res.ok, res.error
    [f] = ncmec[1].reports[res.detail["ncmec_report_id"]].files.values()
    assert b"<generativeAi />" in f["details"] and b"gen_test1" in f["details"]
