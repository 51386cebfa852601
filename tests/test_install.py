"""Each tap installs alone, the way users install it (pipx, from its folder, outside the repository),
and works from there: --about, --discover and a sync against its emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sources import BY_TAP

from emulators import emulator_class

ROOT = Path(__file__).resolve().parent.parent
TAPS = sorted(path.name for path in ROOT.glob("tap-*") if (path / "pyproject.toml").exists())


def demo_config(tap: str, url: str) -> dict:
    """Settings that point a tap at its emulator (with the emulator's default demo credentials)."""
    return BY_TAP[tap].settings(url, "2025-03-01", "2025-03-03")


@pytest.mark.parametrize("tap", TAPS)
def test_pipx_install_from_the_tap_folder(tap, tmp_path):
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    install = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(ROOT / tap)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr[-3000:]
    executable = tmp_path / "bin" / tap
    # Installed from a copy, not the working tree: nothing of the repository (the emulators) is importable there.
    venv = tmp_path / "pipx" / "venvs" / f"adtech-{tap}"  # the distribution name: PyPI's tap-adroll is someone else's
    assert venv.is_dir()
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import emulators"], cwd=tmp_path, capture_output=True, check=False)
    assert probe.returncode != 0

    about = json.loads(
        subprocess.run([str(executable), "--about", "--format=json"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    )
    assert about["name"] == tap
    assert about["version"] == "0.1.0"
    assert {"catalog", "discover", "state", "about", "stream-maps", "schema-flattening"} <= set(about["capabilities"])

    with emulator_class(tap.removeprefix("tap-"))() as emulator:
        config = tmp_path / "config.json"
        config.write_text(json.dumps(demo_config(tap, emulator.url)))
        catalog = subprocess.run(
            [str(executable), "--config", str(config), "--discover"], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        assert json.loads(catalog.stdout)["streams"]
        sync = subprocess.run([str(executable), "--config", str(config)], cwd=tmp_path, capture_output=True, text=True, check=False)
        assert sync.returncode == 0, sync.stderr[-3000:]
        records = [line for line in sync.stdout.splitlines() if '"type":"RECORD"' in line.replace(" ", "")]
        assert len(records) > 0
