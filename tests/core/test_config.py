from pathlib import Path

import pytest

from ronda.config import load_config
from ronda.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ronda.yaml"
    p.write_text(text)
    return p


def _error(path: Path, **kw: object) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(path, display="cfg.yaml", env=kw.pop("env", {}), **kw)  # type: ignore[arg-type]
    return list(exc.value.lines)


def test_layers_defaults_file_env_flags(tmp_path: Path) -> None:
    p = _write(tmp_path, "sensor: {name: from-file}\nmetrics: {listen: '127.0.0.1:9000'}\n")
    cfg = load_config(p, env={}).config
    assert cfg.sensor.name == "from-file"
    assert cfg.pipeline.aggregate_window == 300.0
    env = {"RONDA_SENSOR__NAME": "from-env", "RONDA_PIPELINE__AGGREGATE_WINDOW": "1m",
           "HOME": "/x"}
    cfg = load_config(p, env=env).config
    assert cfg.sensor.name == "from-env" and cfg.pipeline.aggregate_window == 60.0
    cfg = load_config(p, env=env, sets=("sensor.name=from-flag",)).config
    assert cfg.sensor.name == "from-flag"
    assert cfg.metrics.listen == "127.0.0.1:9000"


def test_unknown_key_names_file_line_and_path(tmp_path: Path) -> None:
    p = _write(tmp_path, "sensor:\n  name: a\n\nmetrics:\n  enabled: true\n  lisen: x\n")
    lines = _error(p)
    assert len(lines) == 1
    assert lines[0].startswith("cfg.yaml:6 metrics.lisen: unknown key (expected one of ")
    assert "listen" in lines[0]


def test_bad_value_and_duration(tmp_path: Path) -> None:
    p = _write(tmp_path, "pipeline:\n  aggregate_window: soon\n  max_open_alerts: 5\n")
    lines = _error(p)
    assert lines[0] == ("cfg.yaml:2 pipeline.aggregate_window: invalid duration 'soon' "
                        "(expected e.g. 30s, 5m, 1h, 7d)")
    assert lines[1].startswith("cfg.yaml:3 pipeline.max_open_alerts: ")


def test_env_error_names_the_variable(tmp_path: Path) -> None:
    p = _write(tmp_path, "sensor: {name: a}\n")
    lines = _error(p, env={"RONDA_METRICS__LISTEN": "nowhere"})
    assert lines == ["environment RONDA_METRICS__LISTEN metrics.listen: invalid listen address "
                     "'nowhere' (expected HOST:PORT)"]


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    p = _write(tmp_path, "sensor:\n  name: [unclosed\n")
    lines = _error(p)
    assert len(lines) == 1 and lines[0].startswith("cfg.yaml:") and "YAML syntax error" in lines[0]
    p = _write(tmp_path, "sensor:\n  name: a\n  name: b\n")
    assert _error(p) == ["cfg.yaml:3 sensor.name: duplicate key"]


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.yaml") == ["cfg.yaml: config file not found"]
    p = _write(tmp_path, "- a\n- b\n")
    assert _error(p) == ["cfg.yaml:1: the config must be a mapping"]
    p = _write(tmp_path, "sources:\n  web: just-a-string\n")
    assert _error(p)[0].startswith("cfg.yaml:2 sources.web: ")


def test_bad_flag(tmp_path: Path) -> None:
    p = _write(tmp_path, "{}\n")
    assert _error(p, sets=("novalue",)) == ["flag --set novalue: expected KEY.PATH=VALUE"]
