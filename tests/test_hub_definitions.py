"""Each tap's Meltano Hub definition is current, matches meltano.yml, and `meltano add` from it gives a working tap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emulators import emulator_class
from test_install import TAPS, demo_config

ROOT = Path(__file__).resolve().parent.parent


def test_definitions_are_generated_from_about():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "hub_definitions.py"), "--check", *TAPS],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("tap", TAPS)
def test_project_declares_every_setting_as_the_definition_does(tap):
    hub = yaml.safe_load((ROOT / tap / "meltano-hub.yml").read_text())
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (plugin,) = [p for p in project["plugins"]["extractors"] if p["name"] == tap]
    declared = {s["name"]: (s.get("kind"), bool(s.get("sensitive"))) for s in plugin["settings"]}
    expected = {s["name"]: (s["kind"], bool(s.get("sensitive"))) for s in hub["settings"]}
    assert declared == expected
    assert sorted(plugin["capabilities"]) == sorted({"catalog", "discover", "state", "about", "stream-maps", "schema-flattening"})


@pytest.mark.parametrize("tap", TAPS)
def test_meltano_add_from_the_definition_installs_and_runs(tap, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    (tmp_path / "meltano.yml").write_text(
        'requires_meltano: ">=4.0"\nproject_id: scratch\ndefault_environment: dev\nenvironments:\n- name: dev\n'
    )

    def meltano(*args: str, extra: dict | None = None) -> subprocess.CompletedProcess:
        done = subprocess.run(["meltano", *args], cwd=tmp_path, env={**env, **(extra or {})}, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"meltano {' '.join(args)}: {done.stderr[-3000:]}"
        return done

    meltano("add", "--plugin-type", "extractor", tap, "--from-ref", str(ROOT / tap / "meltano-hub.yml"), "--no-install")
    project = yaml.safe_load((tmp_path / "meltano.yml").read_text())
    (plugin,) = project["plugins"]["extractors"]
    assert plugin["pip_url"] == f"adtech-{tap}"
    # Not on PyPI from this machine: install the same distribution from its folder instead.
    plugin["pip_url"] = str(ROOT / tap)
    (tmp_path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    meltano("install", "--plugin-type", "extractor", tap)

    with emulator_class(tap.removeprefix("tap-"))() as emulator:
        settings = {f"{tap.upper().replace('-', '_')}_{name.upper()}": json.dumps(value) if not isinstance(value, str) else value
                    for name, value in demo_config(tap, emulator.url).items()}
        listed = meltano("config", "list", tap, extra=settings).stdout
        assert "start_date" in listed
        run = meltano("invoke", tap, extra=settings)
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"type":"RECORD"')]
    assert len(records) > 0
