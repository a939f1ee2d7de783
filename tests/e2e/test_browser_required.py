"""Where the browser tests must run (CI, ``OUROBOROS_REQUIRE_BROWSER=1``), a missing chromium
fails them; elsewhere it skips them. Checked on the fixtures' own gate, with no browser at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import conftest


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("OUROBOROS_REQUIRE_BROWSER", raising=False)


@pytest.mark.usefixtures("no_chromium")
@pytest.mark.parametrize(("name", "value"), [("OUROBOROS_REQUIRE_BROWSER", "1"), ("CI", "true"), ("CI", "1")])
def test_a_missing_chromium_fails_where_the_browser_is_required(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception, match="no Debian chromium"):
        conftest._require_browser()


@pytest.mark.usefixtures("no_chromium")
@pytest.mark.parametrize(
    ("name", "value"), [(None, None), ("CI", "false"), ("CI", ""), ("OUROBOROS_REQUIRE_BROWSER", "0")]
)
def test_a_missing_chromium_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, name: str | None, value: str | None
) -> None:
    if name is not None and value is not None:
        monkeypatch.setenv(name, value)
    with pytest.raises(pytest.skip.Exception, match="no Debian chromium"):
        conftest._require_browser()


def test_ci_run_requires_the_browser_tests() -> None:
    lines = [line.strip() for line in (conftest.ROOT / ".ci" / "run").read_text().splitlines()]
    assert lines.index("export OUROBOROS_REQUIRE_BROWSER=1") < lines.index("make test")
