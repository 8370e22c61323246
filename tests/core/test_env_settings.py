"""Settings from AMPARO_* variables and overrides, read the way pydantic-settings read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from amparo.errors import ConfigurationError
from amparo.settings import Settings


def test_defaults_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    for name in ("AMPARO_PORT", "AMPARO_DATA_DIR", "AMPARO_PROFILE", "AMPARO_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert s.port == 8000 and s.profile is None and s.access_log is False
    assert s.data_dir == tmp_path / "amparo"  # the default factory runs at construction
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'amparo' / 'amparo.db'}"

    monkeypatch.setenv("amparo_port", " 8081 ")  # any case, surrounding spaces
    monkeypatch.setenv("AMPARO_ACCESS_LOG", "Yes")
    monkeypatch.setenv("AMPARO_MAX_DECODE_SECONDS", "2.5")
    monkeypatch.setenv("AMPARO_POLICY_FILE", "/etc/amparo/policy.yaml")
    monkeypatch.setenv("AMPARO_PROFILE", "eu-es")
    s = Settings(profile="us", data_dir=str(tmp_path / "d"))
    assert s.port == 8081 and s.access_log is True and s.max_decode_seconds == 2.5
    assert s.policy_file == Path("/etc/amparo/policy.yaml")
    assert s.profile == "us" and s.data_dir == tmp_path / "d"  # an override beats the environment

    monkeypatch.setenv("AMPARO_PORT", "9000.0")  # an integral number is an integer
    assert Settings().port == 9000


@pytest.mark.parametrize(
    ("var", "value"),
    [("AMPARO_PORT", "80.5"), ("AMPARO_PORT", "eighty"), ("AMPARO_ACCESS_LOG", "2"), ("AMPARO_ACCESS_LOG", "")],
)
def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError) as e:
        Settings()
    assert e.value.message.startswith(f"{var}={value!r}: expected ")


def test_overrides_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="policy_file=3: expected a path or nothing"):
        Settings(policy_file=3)
    with pytest.raises(TypeError, match="no setting polcy_file"):
        Settings(polcy_file="x")  # type: ignore[call-arg]


def test_copy_dump_and_fields(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, database_url=None, master_key="11" * 32)
    assert s.resolved_database_url.endswith("amparo.db")
    c = s.model_copy(update={"database_url": "sqlite://", "port": "81"})
    assert c.resolved_database_url == "sqlite://" and c.port == 81  # derived values are not carried over
    assert s.database_url is None and s != c and s == s.model_copy()
    dumped = s.model_dump(mode="json")
    assert list(dumped) == list(Settings.model_fields) and dumped["data_dir"] == str(tmp_path)
    assert dumped["master_key"] == "11" * 32 and s.model_dump()["data_dir"] == tmp_path
    assert Settings.model_fields["environment"].description == "dev | test | production"
    assert Settings.model_fields["port"].default == 8000
