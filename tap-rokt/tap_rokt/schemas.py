"""Stream schemas: static ones for accounts and help rows; report schemas built from the help endpoint."""

from __future__ import annotations

from singer_sdk import typing as th

ACCOUNT = th.PropertiesList(
    th.Property("accountId", th.StringType, required=True, description="Unique identifier of the account"),
    th.Property("accountName", th.StringType, description="Display name of the account"),
    th.Property("countryCode", th.StringType, description="ISO country code of the account"),
    th.Property("accountOwner", th.StringType, description="Email address of the account owner"),
    th.Property("accountCurrencyCode", th.StringType, description="ISO 4217 currency of the account"),
    th.Property("accountTimezone", th.StringType, description="IANA timezone of the account"),
    th.Property("accountTimezoneOffset", th.IntegerType, description="Timezone offset in minutes"),
).to_dict()

REPORT_FIELD = th.PropertiesList(
    th.Property("account_id", th.StringType, required=True),
    th.Property("kind", th.StringType, required=True, allowed_values=["dimension", "metric"]),
    th.Property("slug", th.StringType, required=True),
    th.Property("description", th.StringType),
    th.Property("type", th.StringType, description="JSON type of the field in report rows"),
).to_dict()

# JSON types the help endpoint may state for a field; without one, metrics are numbers and dimensions strings.
_TYPES = {"string": th.StringType, "integer": th.IntegerType, "number": th.DecimalType, "boolean": th.BooleanType}
DEFAULT_TYPE = {"dimension": "string", "metric": "number"}


def field_type(help_entry: dict, kind: str) -> str:
    """The JSON type of a help entry: its own ``type`` (or ``dataType``) when it states a known one."""
    stated = str(help_entry.get("type") or help_entry.get("dataType") or "").lower()
    aliases = {"float": "number", "double": "number", "decimal": "number", "int": "integer", "long": "integer"}
    stated = aliases.get(stated, stated)
    return stated if stated in _TYPES else DEFAULT_TYPE[kind]


def report_schema(dimensions: dict[str, str], metrics: dict[str, str]) -> dict:
    """A report stream's schema: partition and period columns, then dimensions and metrics with their types."""
    properties = [
        th.Property("account_id", th.StringType, required=True, description="Rokt account of the row"),
        th.Property("datetime", th.DateTimeType, required=True, description="Start of the report period (report timezone)"),
        th.Property("timezone", th.StringType, required=True, description="Timezone of the report days (IANA)"),
        th.Property("currency_code", th.StringType, required=True, description="Currency of the money metrics (ISO 4217)"),
    ]
    properties += [th.Property(slug, _TYPES[kind]) for slug, kind in dimensions.items()]
    properties += [th.Property(slug, _TYPES[kind]) for slug, kind in metrics.items()]
    return th.PropertiesList(*properties).to_dict()
