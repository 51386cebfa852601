"""Each tap builds into a wheel and an sdist that PyPI would take (`twine check --strict`), with the metadata a
release needs; and the root project is ready for production use (secrets ignored, Meltano range as tested)."""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from test_install import TAPS

ROOT = Path(__file__).resolve().parent.parent
LICENSE = (ROOT / "LICENSE").read_text()
CLASSIFIERS = [
    "Development Status :: 4 - Beta",
    "Environment :: Console",
    "Intended Audience :: Developers",
    "Operating System :: OS Independent",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.11",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.13",
    "Programming Language :: Python :: 3.14",
    "Topic :: Database",
    "Topic :: Office/Business",
]
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)[^)]*\)|^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def distribution(tap: str) -> str:
    return f"adtech_{tap.replace('-', '_')}-0.1.0"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """All three taps built once, as a release builds them: sdist, then the wheel from the sdist, each in an
    isolated environment with the build-system's own requirements (uv makes those environments fast)."""
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for tap in TAPS:
        done = subprocess.run([sys.executable, "-m", "build", "--installer", "uv", "--outdir", str(out), str(ROOT / tap)],
                              env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def wheel_metadata(dist: Path, tap: str) -> email.message.Message:
    with zipfile.ZipFile(dist / f"{distribution(tap)}-py3-none-any.whl") as wheel:
        return email.parser.Parser().parsestr(wheel.read(f"{distribution(tap)}.dist-info/METADATA").decode())


def test_each_tap_builds_one_wheel_and_one_sdist(dist):
    assert sorted(path.name for path in dist.iterdir()) == sorted(
        name for tap in TAPS for name in (f"{distribution(tap)}-py3-none-any.whl", f"{distribution(tap)}.tar.gz")
    )


def test_twine_check_strict_passes(dist):
    files = sorted(str(path) for path in dist.iterdir())
    done = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == len(files) == 2 * len(TAPS)


@pytest.mark.parametrize("tap", TAPS)
def test_metadata_is_release_ready(dist, tap):
    metadata = wheel_metadata(dist, tap)
    assert Version(metadata["Metadata-Version"]) >= Version("2.4")  # PEP 639 licence fields
    assert metadata["Name"] == f"adtech-{tap}"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata.get_all("Classifier") == CLASSIFIERS
    assert "singer-sdk[msgspec]~=0.54.9" in metadata.get_all("Requires-Dist")
    assert metadata.get_all("Provides-Extra") is None  # test tools are a dependency group, not an extra
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_all("Project-URL") == [
        "Repository, https://github.com/adtech-taps/adtech-taps",
        f"Documentation, https://github.com/adtech-taps/adtech-taps/tree/main/{tap}",
    ]


@pytest.mark.parametrize("tap", TAPS)
def test_python_classifiers_match_the_hub_definition(tap):
    hub = yaml.safe_load((ROOT / tap / "meltano-hub.yml").read_text())
    versions = [c.rsplit(" :: ", 1)[1] for c in CLASSIFIERS if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions == hub["supported_python_versions"]


@pytest.mark.parametrize("tap", TAPS)
def test_license_ships_in_wheel_and_sdist(dist, tap):
    assert LICENSE.startswith("\n                                 Apache License\n                           Version 2.0, January 2004\n")
    assert (ROOT / tap / "LICENSE").read_text() == LICENSE
    with zipfile.ZipFile(dist / f"{distribution(tap)}-py3-none-any.whl") as wheel:
        assert wheel.read(f"{distribution(tap)}.dist-info/licenses/LICENSE").decode() == LICENSE
    with tarfile.open(dist / f"{distribution(tap)}.tar.gz") as sdist:
        assert sdist.extractfile(f"{distribution(tap)}/LICENSE").read().decode() == LICENSE


@pytest.mark.parametrize("tap", TAPS)
def test_readme_links_work_on_pypi(dist, tap):
    """PyPI shows the README alone: a relative link (`(meltano-hub.yml)`) points nowhere there."""
    description = wheel_metadata(dist, tap).get_payload()
    targets = [a or b for a, b in MARKDOWN_LINK.findall(description)]
    assert targets, "the README has links"
    assert [target for target in targets if not target.startswith(("https://", "http://", "#"))] == []


@pytest.mark.parametrize("tap", TAPS)
def test_pyproject_build_and_development_requirements(tap):
    pyproject = tomllib.loads((ROOT / tap / "pyproject.toml").read_text())
    (hatchling,) = [r for r in pyproject["build-system"]["requires"] if r.startswith("hatchling")]
    spec = SpecifierSet(hatchling.removeprefix("hatchling"))
    assert "1.27.0" in spec and "1.26.3" not in spec  # 1.27.0 is the first hatchling to write metadata 2.4
    assert "optional-dependencies" not in pyproject["project"]
    # The test tools, with the record check of emulators/testing.py (jsonschema, and rfc3339-validator for date-times).
    assert pyproject["dependency-groups"]["test"] == ["pytest>=8", "hypothesis>=6", "jsonschema>=4.18,<5", "rfc3339-validator>=0.1.4,<0.2"]
    assert pyproject["project"]["license"] == "Apache-2.0" and pyproject["project"]["license-files"] == ["LICENSE"]


def test_root_project_ignores_env_files_and_requires_the_tested_meltano():
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()
    if (ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
        assert ignored.returncode == 0
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (meltano,) = [line.split("#")[0].strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
                  if re.match(r"meltano\s*[<>=~!]", line)]
    assert SpecifierSet(project["requires_meltano"]) == SpecifierSet(meltano.removeprefix("meltano")) == SpecifierSet(">=4.4.1,<5")
    assert "state_backend" not in project  # dev keeps the system database; prod names its backend in its environment
