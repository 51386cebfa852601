"""Stream schemas, from the documented "get" representations and report rows (api-docs/adroll-crud-api-v1.txt).

Counts are integers, money and rates are decimals (parsed exactly, emitted as JSON numbers), instants are
date-times and report dates are dates. Child entities also carry ``advertisable_eid``; report rows carry the
report day as ``date`` (midnight UTC), the ``currency`` they were requested in and the ``organization_eid``.
Nested entity lists have one shape per property, whichever shape the API sent (entities.py): ``{id, status}``
objects in ``ads.adgroups`` and ``ad_groups.ads``, ``{id, is_negative}`` in ``ad_groups.segments``, EIDs in
``campaigns.adgroups``.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th


def _property(name: str, kind: th.JSONTypeHelper | type[th.JSONTypeHelper], description: str = "", **kwargs: t.Any) -> th.Property:
    return th.Property(name, kind, description=description or None, **kwargs)


ORGANIZATION = th.PropertiesList(
    _property("eid", th.StringType, "EID of the organization", required=True),
    _property("name", th.StringType, "The name of this organization"),
    _property("created_date", th.DateTimeType, "The date this organization was created"),
).to_dict()

ADVERTISABLE = th.PropertiesList(
    _property("eid", th.StringType, "The EID of the advertisable", required=True),
    _property("name", th.StringType),
    _property("organization", th.StringType, "The EID of this advertisable's organization"),
    _property("is_active", th.BooleanType),
    _property("status", th.StringType, "admin_review, approved or rejected"),
    _property("url", th.StringType),
    _property("product_name", th.StringType),
    _property("click_through_conversion_window", th.IntegerType, "Days"),
    _property("view_through_conversion_window", th.IntegerType, "Days"),
    _property("created_date", th.DateTimeType),
    _property("updated_date", th.DateTimeType),
    _property("attached_users", th.ArrayType(th.StringType)),
    _property("blacklisted_sites", th.ArrayType(th.StringType)),
    _property("enable_customer_multi_dur_segs", th.BooleanType),
    _property("is_coop_approved", th.BooleanType),
    _property("is_publisher", th.BooleanType),
    _property("iab1_category_id", th.IntegerType),
    _property("iab1_category_name", th.StringType),
    _property("iab2_category_id", th.IntegerType),
    _property("iab2_category_name", th.StringType),
    _property("iab_content_id", th.IntegerType),
    _property("zvelo_category_id", th.IntegerType),
    _property("zvelo_category_name", th.StringType),
    _property("approval_state", th.StringType),
    _property("has_privacy_policy", th.BooleanType),
    _property("ops", th.StringType),
    _property("optimizer", th.StringType),
    _property("saleser", th.StringType),
    _property("liquidads", th.StringType),
    _property("has_approved_consent_solution", th.BooleanType),
    _property("business_unit", th.StringType),
    _property("company_phone", th.StringType),
    _property("ecomm_platform_plan", th.StringType),
).to_dict()


def _members(*fields: th.Property) -> th.ArrayType:
    """A nested entity list of ``{id, ...}`` objects: ``id`` (an EID) always present, no other field."""
    return th.ArrayType(th.ObjectType(_property("id", th.StringType, "EID", required=True), *fields, additional_properties=False))


_STATUS_IN_LIST = _property("status", th.StringType, "The ad's status in the adgroup (null where the API sent only the EID)")

_ADVERTISABLE_EID = _property("advertisable_eid", th.StringType, "EID of the advertisable this entity was read from", required=True)

CAMPAIGN = th.PropertiesList(
    _property("eid", th.StringType, "EID of the campaign", required=True),
    _ADVERTISABLE_EID,
    _property("advertisable", th.StringType),
    _property("name", th.StringType),
    _property("adgroups", th.ArrayType(th.StringType), "EIDs of the campaign's adgroups (from objects' id where the API sent objects)"),
    _property("budget", th.DecimalType, "The WEEKLY budget of the campaign"),
    _property("ui_budget_daily", th.BooleanType),
    _property("created_date", th.DateTimeType),
    _property("updated_date", th.DateTimeType),
    _property("cpc", th.DecimalType),
    _property("cpm", th.DecimalType),
    _property("max_cpm", th.DecimalType),
    _property("start_date", th.DateTimeType),
    _property("end_date", th.DateTimeType, "The date the campaign will end, exclusive (UTC)"),
    _property("is_active", th.BooleanType),
    _property("is_facebook", th.BooleanType),
    _property("is_fbx_newsfeed", th.BooleanType),
    _property("is_retargeting", th.BooleanType),
    _property("is_fb_wca", th.BooleanType),
    _property("is_apple", th.BooleanType),
    _property("is_ctv", th.BooleanType),
    _property("pricing_strategies", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _property("status", th.StringType, "admin_review, approved, rejected, cancelled or completed"),
    _property("billing_auth_status", th.StringType),
    _property("is_coop", th.BooleanType),
    _property("is_pubgraph", th.BooleanType),
    _property("spend_limit_until", th.DateTimeType),
    _property("bid_strategy", th.StringType),
    _property("bid_strategy_target", th.StringType),
).to_dict()

AD_GROUP = th.PropertiesList(
    _property("eid", th.StringType, "The EID of the adgroup", required=True),
    _ADVERTISABLE_EID,
    _property("name", th.StringType),
    _property("campaign", th.StringType, "EID of the adgroup's campaign"),
    _property("status", th.StringType),
    _property("ad_optimization", th.StringType),
    _property("created_date", th.DateTimeType),
    _property("updated_date", th.DateTimeType),
    _property("geo_targets", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _property("ads", _members(_STATUS_IN_LIST), "The adgroup's ads: {id: ad EID, status}"),
    _property(
        "segments",
        _members(_property("is_negative", th.BooleanType, "Excluded (true) or included (false); null where the API sent only the EID")),
        "The adgroup's segments: {id: segment EID, is_negative}",
    ),
    _property("site_exclusions", th.ArrayType(th.ObjectType(additional_properties=True))),
    _property("platform_targets", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _property("placement_targets", th.ArrayType(th.StringType)),
    _property("flight_timezone", th.StringType),
    _property("product_set", th.ObjectType(additional_properties=True), "Deprecated"),
).to_dict()

AD = th.PropertiesList(
    _property("eid", th.StringType, "EID of the ad", required=True),
    _ADVERTISABLE_EID,
    _property("advertisable", th.StringType),
    _property("name", th.StringType),
    _property("adgroups", _members(_STATUS_IN_LIST), "The adgroups this ad belongs to: {id: adgroup EID, status}"),
    _property("ad_format_id", th.IntegerType),
    _property("ad_format", th.StringType),
    _property("ad_format_name", th.StringType),
    _property("has_future_campaigns", th.BooleanType),
    _property("destination_url", th.StringType),
    _property("headline", th.StringType),
    _property("body", th.StringType),
    _property("message", th.StringType),
    _property("is_active", th.BooleanType),
    _property("src", th.StringType),
    _property("status", th.StringType, "approved, admin_review or paused"),
    _property("type", th.StringType),
    _property("height", th.IntegerType),
    _property("width", th.IntegerType),
    _property("created_date", th.DateTimeType),
    _property("updated_date", th.DateTimeType),
    _property("has_edits", th.BooleanType),
    _property("has_pending_edits", th.BooleanType),
    _property("original_ad", th.StringType),
    _property("is_outlined", th.BooleanType),
    _property("outline_color", th.StringType),
    _property("valid_clicktag", th.BooleanType),
    _property("display_url_override", th.StringType),
).to_dict()

SEGMENT = th.PropertiesList(
    _property("eid", th.StringType, "The EID of the segment", required=True),
    _ADVERTISABLE_EID,
    _property("display_name", th.StringType),
    _property("name", th.StringType),
    _property("type", th.StringType, "s, u, c, p, b, e, g, x, l or q"),
    _property("match_method", th.StringType),
    _property("pattern", th.StringType),
    _property("threshold", th.IntegerType),
    _property("duration", th.IntegerType, "Days"),
    _property("conversion_value", th.DecimalType, "USD"),
    _property("group", th.IntegerType),
    _property("mobile", th.ObjectType(additional_properties=True)),
    _property("product", th.StringType),
).to_dict()

_REPORT_COMMON = (
    _property("eid", th.StringType, "EID of the reported entity", required=True),
    _property("date", th.DateTimeType, "The report day (midnight UTC)", required=True),
    _property("currency", th.StringType, "ISO 4217 currency of cost, cpc and cpm", required=True),
    _property("organization_eid", th.StringType, "The organization the report was read for"),
    _property("status", th.StringType),
    _property("created_date", th.DateType),
    _property("impressions", th.IntegerType),
    _property("clicks", th.IntegerType),
    _property("prospects", th.IntegerType),
    _property("cost", th.DecimalType),
    _property("cpc", th.DecimalType),
    _property("cpm", th.DecimalType),
    _property("ctr", th.DecimalType),
)

AD_REPORT = th.PropertiesList(*_REPORT_COMMON, _property("ad", th.StringType, "Ad name"), _property("ad_size", th.StringType)).to_dict()

CAMPAIGN_REPORT = th.PropertiesList(
    *_REPORT_COMMON,
    _property("campaign", th.StringType, "Campaign name"),
    _property("advertiser", th.StringType, "Advertisable name"),
    _property("type", th.StringType),
    _property("start_date", th.DateType),
    _property("end_date", th.DateType),
    _property("budget", th.DecimalType),
).to_dict()

ADVERTISABLE_REPORT = th.PropertiesList(*_REPORT_COMMON, _property("advertisable", th.StringType, "Advertisable name")).to_dict()
