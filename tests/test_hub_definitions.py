"""Each tap's Meltano Hub definition passes the Hub's own checks (its yamllint rules, its JSON schemas, its
description cleaner), is current, matches meltano.yml, and `meltano add` from it gives a working tap."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from test_install import TAPS, demo_config
from yamllint import linter
from yamllint.config import YamlLintConfig

from emulators import emulator_class

ROOT = Path(__file__).resolve().parent.parent
# The Hub's files, beside the clone as in CI (shared/reference/meltano-hub/ of the project).
HUB_REFERENCE = ROOT.parent / "shared" / "reference" / "meltano-hub"
LINT_CONFIG = ROOT / "hub-yamllint.yaml"
TESTED_CAPABILITIES = ["about", "catalog", "discover", "schema-flattening", "state", "stream-maps"]
# The SDK's built-in settings of the capabilities the taps claim (stream maps, flattening; not batch, which no test
# exercises, so batch_config is not offered), named as the Hub lists them (objects of fixed keys flattened).
SDK_SETTINGS = {
    "faker_config.locale",
    "faker_config.seed",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "stream_map_config",
    "stream_maps",
}
HUB_METADATA = {
    "tap-rokt": ("Rokt", "Rokt ecommerce marketing platform", "https://www.rokt.com/", "/assets/logos/extractors/rokt.png"),
    "tap-adroll": (
        "AdRoll",
        "AdRoll (NextRoll) digital advertising platform",
        "https://www.adroll.com/",
        "/assets/logos/extractors/adroll.png",
    ),
    "tap-mediamath": (
        "MediaMath",
        "MediaMath programmatic advertising platform",
        "https://www.mediamath.com/",
        "/assets/logos/extractors/mediamath.png",
    ),
}
# The groups of settings a user must give (Meltano's settings_group_validation), exactly.
SETTINGS_GROUPS = {
    "tap-rokt": [["app_id", "app_secret", "start_date"]],
    "tap-adroll": [
        ["api_key", "personal_access_token", "start_date"],
        ["access_token", "api_key", "client_secret", "refresh_token", "start_date"],
    ],
    "tap-mediamath": [["client_id", "client_secret", "organization_id", "password", "start_date", "username"]],
}


def _load_generator():
    spec = importlib.util.spec_from_file_location("hub_definitions", ROOT / "scripts" / "hub_definitions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


def hub_definition(tap: str) -> dict:
    return yaml.safe_load((ROOT / tap / "meltano-hub.yml").read_text())


def about(tap: str) -> dict:
    return generator.about(tap)


def test_definitions_are_generated_from_about():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hub_definitions.py"), "--check", *TAPS], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the Hub's lint rules and schemas ------------------------------------------------------------------------
@pytest.mark.parametrize("tap", TAPS)
def test_definition_passes_the_hubs_yamllint_rules(tap):
    path = ROOT / tap / "meltano-hub.yml"
    problems = [
        f"{p.line}:{p.column} {p.rule}: {p.desc}" for p in linter.run(path.read_text(), YamlLintConfig(file=str(LINT_CONFIG)), str(path))
    ]
    assert problems == []


def test_lint_config_catches_unsorted_keys():
    """The rules are live: the old generator's order (name before namespace before variant) is an error."""
    problems = list(linter.run("name: tap-x\nnamespace: tap_x\nvariant: adtech\nlabel: X\n", YamlLintConfig(file=str(LINT_CONFIG))))
    assert [(p.line, p.rule) for p in problems] == [(4, "key-ordering")]


def test_lint_rules_are_the_hubs():
    if not (HUB_REFERENCE / "yamllint.yaml").exists():
        pytest.skip(f"the Hub's reference files are not beside this clone ({HUB_REFERENCE}): cannot compare rules")
    hubs = yaml.safe_load((HUB_REFERENCE / "yamllint.yaml").read_text())
    ours = yaml.safe_load(LINT_CONFIG.read_text())
    assert (ours["extends"], ours["rules"]) == (hubs["extends"], hubs["rules"])


def hub_extractor_validator() -> jsonschema.Draft7Validator:
    schemas = HUB_REFERENCE / "schemas"
    if not schemas.is_dir():
        pytest.skip(f"the Hub's JSON schemas are not beside this clone ({schemas}): cannot validate against them")
    # Registered under their own $id, which is how their relative $refs (../common/...) resolve.
    documents = [
        json.loads(path.read_text()) for folder in ("common", "plugin_definitions") for path in sorted((schemas / folder).glob("*.json"))
    ]
    registry = Registry().with_resources((document["$id"], Resource.from_contents(document)) for document in documents)
    schema = json.loads((schemas / "plugin_definitions" / "extractors.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, registry=registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("tap", TAPS)
def test_definition_passes_the_hubs_json_schemas(tap):
    errors = [f"{list(error.path)}: {error.message}" for error in hub_extractor_validator().iter_errors(hub_definition(tap))]
    assert errors == []


def test_hub_schemas_are_live():
    """The validator really follows the schemas' $refs: a bad capability, setting kind and missing quality all fail."""
    broken = {**hub_definition("tap-rokt"), "capabilities": ["batches"], "settings": [{"name": "x", "kind": "text"}]}
    del broken["quality"]
    messages = sorted(error.message for error in hub_extractor_validator().iter_errors(broken))
    assert len(messages) == 3
    assert messages[0].startswith("'batches' is not one of")
    assert messages[1] == "'quality' is a required property"
    assert messages[2].startswith("'text' is not one of")


# --- what the definition says --------------------------------------------------------------------------------
@pytest.mark.parametrize("tap", TAPS)
def test_definition_describes_the_tap_as_the_hub_lists_sdk_taps(tap):
    hub, reported = hub_definition(tap), about(tap)
    label, description, domain_url, logo_url = HUB_METADATA[tap]
    assert (hub["label"], hub["description"], hub["domain_url"], hub["logo_url"]) == (label, description, domain_url, logo_url)
    assert (hub["name"], hub["namespace"], hub["executable"], hub["pip_url"]) == (tap, tap.replace("-", "_"), tap, f"adtech-{tap}")
    assert hub["keywords"] == ["api", "meltano_sdk"]
    assert hub["capabilities"] == TESTED_CAPABILITIES
    assert hub["supported_python_versions"] == reported["supported_python_versions"] == ["3.11", "3.12", "3.13", "3.14"]
    assert hub["settings_group_validation"] == SETTINGS_GROUPS[tap]
    names = [entry["name"] for entry in hub["settings"]]
    assert names == sorted(names)
    assert set(names) >= SDK_SETTINGS
    own = {
        name
        for name in reported["settings"]["properties"]
        if name not in {"stream_maps", "stream_map_config", "faker_config", "batch_config"} and not name.startswith("flattening_")
    }
    assert set(names) == own | SDK_SETTINGS
    secrets = {name for name, schema in reported["settings"]["properties"].items() if schema.get("secret")}
    assert {entry["name"] for entry in hub["settings"] if entry.get("sensitive")} == secrets


def test_sdk_settings_are_flattened_as_on_the_hub():
    settings = {entry["name"]: entry for entry in hub_definition("tap-rokt")["settings"]}
    assert not [name for name in settings if name.startswith("batch_config")]  # batch is not claimed
    kinds = {name: settings[name]["kind"] for name in SDK_SETTINGS}
    assert kinds == {
        "faker_config.locale": "array",
        "faker_config.seed": "string",
        "flattening_enabled": "boolean",
        "flattening_max_depth": "integer",
        "flattening_max_key_length": "integer",
        "flattening_separator": "string",
        "stream_map_config": "object",
        "stream_maps": "object",
    }


@pytest.mark.parametrize("tap", TAPS)
def test_project_declares_every_setting_as_the_definition_does(tap):
    hub = hub_definition(tap)
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (plugin,) = [p for p in project["plugins"]["extractors"] if p["name"] == tap]
    declared = {s["name"]: (s.get("kind"), bool(s.get("sensitive"))) for s in plugin["settings"]}
    # The project declares the tap's own settings; the SDK's built-in ones work there undeclared.
    expected = {s["name"]: (s["kind"], bool(s.get("sensitive"))) for s in hub["settings"] if s["name"] not in SDK_SETTINGS}
    assert declared == expected
    assert sorted(plugin["capabilities"]) == hub["capabilities"] == TESTED_CAPABILITIES
    assert [sorted(group) for group in plugin["settings_group_validation"]] == hub["settings_group_validation"]


# --- the Hub's description cleaner (hub-utils) ---------------------------------------------------------------
# hub-utils' own test cases for its cleaner (tests/test_meltano_utils.py::test_clean_description): the
# reimplementation in scripts/hub_definitions.py gives the same answers.
HUB_UTILS_CASES = [
    ("foo.Test.", "Foo. Test."),
    ("default 3,600 seconds (i.e. 1 hour). Something.", "Default 3,600 seconds (i.e. 1 hour). Something."),
    ("Data was scanned ~1.5 times for that batch.", "Data was scanned ~1.5 times for that batch."),
    ("dbt is the best. Dbt is good.", "dbt is the best. dbt is good."),
    ("Path to .duckdb file", "Path to .duckdb file"),
    ("By (e.g. myFolder/thisTable/) sit, S3. This is replicate.", "By (e.g. myFolder/thisTable/) sit, S3. This is replicate."),
    ("Request timeout used when not overridden in Session.execute().", "Request timeout used when not overridden in Session.execute()."),
    ("tap-saasoptics <api_user_email@your_company.com>.", "tap-saasoptics <api_user_email@your_company.com>."),
    ("https://api.totango.com", "https://api.totango.com"),
]


@pytest.mark.parametrize(("text", "expected"), HUB_UTILS_CASES)
def test_description_cleaner_answers_as_hub_utils_does(text, expected):
    assert generator.hub_clean_description(text) == expected


def test_description_cleaner_fails_where_the_hub_failed():
    """tap-mediamath's page_size description as it was: "1..10000" leaves an empty sentence, and hub-utils crashes."""
    with pytest.raises(IndexError):
        generator.hub_clean_description("Rows per page in paginated mode (1..10000; the API's text docs say at most 1000)")
    with pytest.raises(IndexError):
        generator.hub_clean_description("Wait. . then retry")


def test_generator_writes_descriptions_the_cleaner_cannot_break():
    assert (
        generator.hub_description("Rows per page in paginated mode (1..10000; the API's text docs say at most 1000)")
        == "Rows per page in paginated mode (1 to 10000; the API's text docs say at most 1000)"
    )
    assert generator.hub_description("Wait... then . retry") == "Wait\u2026 then retry"
    assert generator.hub_description("streaming (JSON lines) or paginated") == "Streaming (JSON lines) or paginated"
    assert generator.hub_description("") == ""


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["a", "B", "1", "2.5", ".", "..", "...", " ", "e.g.", "i.e.", "(", ")", "'", "x.y", "http://a.b", "tap-x", "`c.d`", ";", "\n"]
        ),
        max_size=12,
    ).map("".join)
)
def test_any_description_comes_out_as_a_fixed_point_of_the_cleaner(text):
    cleaned = generator.hub_description(text)
    assert generator.hub_clean_description(cleaned) == cleaned


@pytest.mark.parametrize("tap", TAPS)
def test_every_description_is_already_as_the_hub_cleans_it(tap):
    descriptions = [entry["description"] for entry in hub_definition(tap)["settings"]]
    assert [generator.hub_clean_description(text) for text in descriptions] == descriptions
    assert all(descriptions)


# --- meltano add from the definition -------------------------------------------------------------------------
@pytest.mark.parametrize("tap", TAPS)
def test_meltano_add_from_the_definition_installs_and_runs(tap, tmp_path):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
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
        settings = {
            f"{tap.upper().replace('-', '_')}_{name.upper()}": json.dumps(value) if not isinstance(value, str) else value
            for name, value in demo_config(tap, emulator.url).items()
        }
        listed = meltano("config", "list", tap, extra=settings).stdout
        assert "start_date" in listed
        run = meltano("invoke", tap, extra=settings)
    records = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"type":"RECORD"')]
    assert len(records) > 0
