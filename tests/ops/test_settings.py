"""One settings object: flags over OUROBOROS_* over a TOML file over defaults; ``config show`` says
where each came from; bad keys and values exit 2 naming the key; secrets are never printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from ouroboros.cli import core as cli
from ouroboros.engine.snapshot import read_header
from ouroboros.errors import BadInputError
from ouroboros.settings import load_settings

runner = CliRunner()
SECRET = "authorization=Bearer s3cr3t-token-xyz"


def _show(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, ["config", "show", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_each_source_wins_over_the_weaker_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "o.toml"
    toml.write_text('port = 9001\ntelnet_port = 9002\nws_port = 9003\ncors_origins = ["http://a"]\n')
    monkeypatch.setenv("OUROBOROS_TELNET_PORT", "9102")
    monkeypatch.setenv("OUROBOROS_WS_PORT", "9103")
    got, sources = load_settings({"ws_port": 9203}, toml)
    assert (got.port, got.telnet_port, got.ws_port, got.host) == (9001, 9102, 9203, "127.0.0.1")
    assert (sources["port"], sources["telnet_port"], sources["ws_port"]) == ("file", "env", "flag")
    assert sources["host"] == "default" and got.cors_origins == ("http://a",)
    with pytest.raises(ValidationError):
        got.port = 1  # type: ignore[misc]  # frozen


def test_a_blank_optional_setting_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUROBOROS_WITNESS", "  ")  # as the anchors always read it: blank is unset
    monkeypatch.setenv("OUROBOROS_SEED", "")
    got, sources = load_settings()
    assert got.witness is None and got.seed is None and sources["witness"] == "env"


def test_config_show_prints_every_setting_with_its_source_and_masks_secrets(tmp_path: Path) -> None:
    toml = tmp_path / "o.toml"
    toml.write_text(f'otlp_headers = "{SECRET}"\nfeed_max_events = 50\n')
    env = {"OUROBOROS_INPUT_LOG_SEGMENT_TICKS": "600", "OUROBOROS_TRUSTED_ADDRESSES": "10.0.0.1, 10.0.0.2"}
    code, out, _ = _show("--config", str(toml), "--json", env=env)
    assert code == 0
    doc = json.loads(out)["settings"]
    assert doc["feed_max_events"] == {"value": 50, "source": "file"}
    assert doc["input_log_segment_ticks"] == {"value": 600, "source": "env"}
    assert doc["trusted_addresses"]["value"] == ["10.0.0.1", "10.0.0.2"]
    assert doc["otlp_headers"] == {"value": "**********", "source": "file"}
    assert doc["port"] == {"value": 8000, "source": "default"}
    code, text, _ = _show("--config", str(toml), env=env)
    assert code == 0 and "s3cr3t" not in text and "s3cr3t" not in out
    assert any(line.startswith("input_log_segment_ticks") and "(env)" in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("toml", "env", "names"),
    [
        ("bogus_key = 1\n", {}, ["bogus_key"]),
        ("port = 70000\n", {}, ["'port'", "config file"]),
        ("", {"OUROBOROS_FEED_MAX_EVENTS": "-4"}, ["'feed_max_events'", "OUROBOROS_FEED_MAX_EVENTS"]),
        ("", {"OUROBOROS_TICKS_PER_SECOND": "nan"}, ["'ticks_per_second'"]),
        ("", {"OUROBOROS_OPTIMIZER": "maybe"}, ["'optimizer'"]),
        ("port = [\n", {}, ["not TOML"]),
        ("otlp_headers = 5\n", {}, ["'otlp_headers'"]),
    ],
)
def test_bad_settings_exit_2_naming_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], names: list[str]
) -> None:
    path = tmp_path / "o.toml"
    path.write_text(toml)
    code, _, err = _show("--config", str(path), env=env)
    assert code == 2
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line
    for name in names:
        assert name in line


@settings(max_examples=40, deadline=None)
@given(port=st.integers(-(2**40), 2**40))
def test_any_port_from_the_environment_is_taken_or_refused_by_name(port: int) -> None:
    import os

    os.environ["OUROBOROS_PORT"] = str(port)
    try:
        if 0 <= port <= 65535:
            assert load_settings()[0].port == port
        else:
            with pytest.raises(BadInputError, match="'port' \\(from OUROBOROS_PORT\\)"):
                load_settings()
    finally:
        del os.environ["OUROBOROS_PORT"]


def test_go_takes_its_settings_from_the_environment_and_a_flag_wins(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"OUROBOROS_MAX_TICKS": "7", "OUROBOROS_ENTITIES": "30", "OUROBOROS_DATA": str(data)}
    base = ["go", "--world", "petri", "--ticks-per-second", "0", "--no-browser", "--optimizer", "off"]
    base += ["--port", "0", "--telnet-port", "0", "--ws-port", "0"]
    result = runner.invoke(cli.app, base, env=env)
    assert result.exit_code == 0, result.output
    header, _ = read_header((data / "petri" / "petri.snapshot").read_bytes())
    assert header["tick"] == 7  # OUROBOROS_MAX_TICKS
    result = runner.invoke(cli.app, [*base, "--max-ticks", "2"], env=env)
    assert result.exit_code == 0, result.output
    header, _ = read_header((data / "petri" / "petri.snapshot").read_bytes())
    assert header["tick"] == 9  # the flag, over the environment
    bad = runner.invoke(cli.app, base, env={**env, "OUROBOROS_INPUT_LOG_KEEP_SEGMENTS": "0"})
    assert bad.exit_code == 2 and "'input_log_keep_segments'" in bad.stderr
