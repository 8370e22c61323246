"""Policy changes are recorded in the audit trail; the same policy is recorded once."""

from __future__ import annotations

from amparo.audit import names
from amparo.service import Service
from amparo.store import audit_repo


def count(svc: Service) -> int:
    with svc.db.session() as s:
        return audit_repo.count_records(s, action=names.POLICY_CHANGE)


def test_policy_change_audited(settings) -> None:
    with Service(settings) as svc:
        assert count(svc) == 1
    with Service(settings) as svc:
        assert count(svc) == 1  # unchanged policy: no new record
    settings.profile = "us"
    with Service(settings) as svc:
        assert count(svc) == 2
        with svc.db.session() as s:
            rec = audit_repo.list_records(s, limit=1, action=names.POLICY_CHANGE)[0]
            assert rec.details["profile"] == "us" and rec.details["previous"]
            assert svc.audit.verify_chain(s).ok
