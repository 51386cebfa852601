"""Settings checks shared by the three taps: the schema's checks worded without values, then the dates, and a
warning for every setting name the tap does not know (a misspelled one would otherwise be ignored in silence).

The SDK checks settings against the tap's JSON schema and fills in the defaults of settings left out, but
its messages quote the offending value ("987650123 is not of type 'string'"), which for a secret setting is
the secret. Here the schema is checked first on a copy, with messages that name the setting and never show
its value; only a clean config goes on to the SDK's own check, which then fills in the defaults.

This module is the same file in every tap (tests/test_shared_modules.py keeps it so).
"""

from __future__ import annotations

import copy
import difflib
import re
import typing as t
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults
from typing_extensions import override

from .report_days import setting_day

if t.TYPE_CHECKING:
    from jsonschema import ValidationError

_VALIDATOR = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)


class CheckedSettingsTap(Tap):
    """A tap whose bad settings fail before any request, each in one line naming the setting."""

    def setting_errors(self, config: t.Mapping[str, t.Any]) -> list[str]:
        """What the schema cannot say about the settings, one line each (tap-specific checks extend this)."""
        return date_setting_errors(config)

    # The SDK's settings check is the private _validate_config, with no public hook beside it: overridden here
    # and only here. tests/test_shared_modules.py fails if the SDK stops calling it from Tap.__init__ or stops
    # filling in defaults there.
    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        schema = copy.deepcopy(self.config_jsonschema)
        self.append_builtin_config(schema)
        config = copy.deepcopy(dict(self.config))
        for warning in unknown_setting_warnings(config, schema.get("properties", {}), self.name):
            self.logger.warning("Setting %s", warning)
        errors = [describe_schema_error(error) for error in _VALIDATOR(schema).iter_errors(config)]
        if not errors:
            super()._validate_config(raise_errors=raise_errors)  # fills in the defaults of settings left out
            errors = self.setting_errors(self.config)
        if errors and raise_errors:
            raise ConfigValidationError(errors[0], errors=errors)
        for error in errors:  # a check that does not fail (a static catalog's discovery) still says what is wrong
            self.logger.warning("Setting %s", error)
        return errors


def unknown_setting_warnings(config: t.Mapping[str, t.Any], known: t.Collection[str], tap: str) -> list[str]:
    """One line per setting name that is neither the tap's nor the SDK's (``known``: the schema's properties once
    the built-in ones are appended, as ``--about`` lists them), naming the nearest known name, never the value.

    Meltano passes the settings that have a value, custom ones included, and keeps its own extras (``_select``,
    ``_metadata``...) out of the config file, so every name here is one a user wrote."""
    lines = []
    for name in sorted(set(config) - set(known)):
        nearest = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {nearest[0]}?" if nearest else f"`{tap} --about` lists the settings"
        lines.append(f"{name}: not a setting of {tap}, ignored; {hint}")
    return lines


def describe_schema_error(error: ValidationError) -> str:
    """``<setting>: <what is wrong>``, never quoting the value (it may be a secret)."""
    setting = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path).lstrip(".")
    if error.validator == "required":  # the message names the missing setting (from the schema): no value
        missing = re.match(r"'([^']+)' is a required property", error.message)
        name = missing.group(1) if missing else "a setting"
        return f"{setting}.{name}: is required" if setting else f"{name}: is required"
    setting = setting or "config"
    if error.validator == "type":
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        kinds = " or ".join(str(kind) for kind in expected if kind != "null")
        return f"{setting}: must be of type {kinds}"
    if error.validator in ("minimum", "maximum"):
        return f"{setting}: must be at {'least' if error.validator == 'minimum' else 'most'} {error.validator_value}"
    if error.validator == "enum":
        return f"{setting}: must be one of {', '.join(str(value) for value in t.cast('list', error.validator_value))}"
    return f"{setting}: fails the schema's {error.validator!r} rule"


def date_setting_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """``start_date`` and ``end_date`` are dates or date-times, and the end is not before the start."""
    errors, days = [], {}
    for name in ("start_date", "end_date"):
        if config.get(name) is None:
            continue
        try:
            days[name] = setting_day(config[name])
        except ValueError:
            errors.append(f"{name}: {config[name]!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time")
    if len(days) == 2 and days["end_date"] < days["start_date"]:
        errors.append(f"end_date: {config['end_date']} is before start_date {config['start_date']}")
    return errors


def timezone_error(name: str, value: t.Any, *also: str) -> list[str]:
    """One line when ``value`` is neither an IANA timezone name nor one of ``also``."""
    if not value or value in also:
        return []
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        iana = "an IANA timezone name (e.g. America/New_York)"
        names = f"{', '.join(also)} or {iana}" if also else iana
        return [f"{name}: {value!r} is not {names}"]
    return []


def chosen_entries(setting: str, wanted: t.Sequence[str] | None, found: list[dict], key: str, where: str) -> list[dict]:
    """The entries of ``found`` (what the API lists) that the ``setting`` list names by ``key``, in its order; all
    of them when the list is empty. A name the API does not list fails the run with the names it does list."""
    if not wanted:
        return found
    by_name = {entry[key]: entry for entry in found}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        msg = f"{setting}: {', '.join(unknown)} not among {where} ({', '.join(by_name) or 'none'})"
        raise ConfigValidationError(msg, errors=[msg])
    return [by_name[name] for name in wanted]
