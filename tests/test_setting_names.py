"""A misspelled setting name is ignored, as before, but no longer in silence: each tap, run as a process, writes one
WARNING line naming the unknown setting and the nearest known one, never its value, at INFO and at DEBUG; the
SDK's built-in settings are known names; and the run extracts what it extracts without the setting (every
account)."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import subprocess

import pytest
from sources import SOURCES

from emulators import emulator_class
from emulators.testing import tap_executable

START, END = "2025-03-01", "2025-03-04"
SECRET_LOOKING = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
# The misspelling a user makes of each tap's account filter, and the name the warning points to.
MISSPELT = {"tap-rokt": ("acount_ids", "account_ids"), "tap-adroll": ("advertisable_eid", "advertisable_eids"),
            "tap-mediamath": ("advertiser_id", "advertiser_ids")}
BUILT_IN = {"stream_maps": {}, "flattening_enabled": False}  # the SDK's settings (--about lists them): no warning


def _warnings(stderr: str) -> list[str]:
    return [line.split("| ", 3)[-1] for line in stderr.splitlines() if re.search(r"\| WARNING ", line)]


def _counts(stdout: str) -> dict[str, int]:
    messages = (json.loads(line) for line in stdout.splitlines() if line.startswith('{"type"'))
    return dict(collections.Counter(m["stream"] for m in messages if m["type"] == "RECORD"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], tuple[int, str, str]]:
    """Per tap: a run with its settings as they should be, and runs with the misspelt one at INFO and at DEBUG; all at
    once, each a process with its config in a file."""
    folder = tmp_path_factory.mktemp("configs")
    with contextlib.ExitStack() as stack:
        started = {}
        for source in SOURCES:
            emulator = stack.enter_context(emulator_class(source.provider)())
            clean = {**source.settings(emulator.url, START, END), **BUILT_IN}
            misspelt = {**clean, MISSPELT[source.tap][0]: SECRET_LOOKING}
            for run, config, level in (("clean", clean, "INFO"), ("INFO", misspelt, "INFO"), ("DEBUG", misspelt, "DEBUG")):
                path = folder / f"{source.tap}-{run}.json"
                path.write_text(json.dumps(config))
                started[source.tap, run] = subprocess.Popen(
                    [tap_executable(source.tap), "--config", str(path)],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "LOGLEVEL": level},
                )
        finished = {}
        for key, process in started.items():
            stdout, stderr = process.communicate(timeout=600)
            finished[key] = (process.returncode, stdout, stderr)
        return finished


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
@pytest.mark.parametrize("tap", [source.tap for source in SOURCES])
def test_a_misspelt_setting_is_named_with_the_nearest_known_one_never_its_value(runs, tap, level):
    unknown, nearest = MISSPELT[tap]
    returncode, stdout, stderr = runs[tap, level]
    assert returncode == 0, stderr[-3000:]
    assert [line for line in _warnings(stderr) if line.startswith("Setting ")] == [
        f"Setting {unknown}: not a setting of {tap}, ignored; did you mean {nearest}?"
    ]
    assert SECRET_LOOKING not in stdout + stderr
    # Ignored: the run extracts exactly what it extracts without it (every account), and the clean run warns of nothing.
    clean_returncode, clean_stdout, clean_stderr = runs[tap, "clean"]
    assert clean_returncode == 0, clean_stderr[-3000:]
    assert not [line for line in _warnings(clean_stderr) if line.startswith("Setting ")]
    assert _counts(stdout) == _counts(clean_stdout)
    assert sum(_counts(stdout).values()) > 0
