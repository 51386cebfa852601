"""A fresh clone of the project, as a newcomer has it after `make setup`: the files git would hand out (tracked, and
new ones not ignored, so uncommitted work is tested too), its own `.meltano/` with the plugins installed by
`meltano install` (from the package cache: seconds), and this test run's .venv on PATH as the Makefile puts it.

Nothing of the working tree's own `.meltano/`, `output/` or `.env` is shared: what a clone's commands delete or
write cannot touch a developer's warehouse or state, and what the developer has there cannot change a result."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Settings and Meltano options the shell running the tests may hold; a newcomer's shell holds none of them.
FOREIGN = ("TAP_", "TARGET_", "DBT_", "MELTANO_")


class FreshClone:
    def __init__(self, root: Path, plugins: dict[str, list[str]]) -> None:
        """Copy the project into ``root`` and install ``plugins`` (plugin type -> names) into its `.meltano/`."""
        self.root = root
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        for name in filter(None, listed.split("\0")):
            source = ROOT / name
            if source.is_file():  # a tracked file deleted in the working tree is not in the clone either
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root / name)
        self.env = {name: value for name, value in os.environ.items() if not name.startswith(FOREIGN)}
        self.env.update({"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"})
        for plugin_type, names in plugins.items():
            self.meltano("install", plugin_type, *names)

    def meltano(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["meltano", *args], cwd=self.root, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=900, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} exited {done.returncode}:\n{done.stderr[-6000:]}")
        return done

    def python(self, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        """``.venv/bin/python <args>`` in the clone, PATH as the Makefile sets it (`make demo` runs scripts/demo.py so)."""
        env = {**self.env, **(env or {})}
        return subprocess.run([sys.executable, *args], cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout, check=False)
