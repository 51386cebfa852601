"""Stream schemas, from the documented "get" representations and report rows (api-docs/adroll-crud-api-v1.txt).

Counts are integers, money and rates are decimals (parsed exactly, emitted as JSON numbers), instants are
date-times and report dates are dates. Child entities also carry ``advertisable_eid``; report rows carry the
report day as ``date`` (midnight UTC), the ``currency`` they were requested in and the ``organization_eid``.
"""

from __future__ import annotations

from singer_sdk import typing as th

S, I, D, B = th.StringType, th.IntegerType, th.DecimalType, th.BooleanType
DT, DATE = th.DateTimeType, th.DateType


def _p(name: str, kind: th.JSONTypeHelper | type[th.JSONTypeHelper], description: str = "", **kwargs: object) -> th.Property:
    return th.Property(name, kind, description=description or None, **kwargs)


ORGANIZATION = th.PropertiesList(
    _p("eid", S, "EID of the organization", required=True),
    _p("name", S, "The name of this organization"),
    _p("created_date", DT, "The date this organization was created"),
).to_dict()

ADVERTISABLE = th.PropertiesList(
    _p("eid", S, "The EID of the advertisable", required=True),
    _p("name", S),
    _p("organization", S, "The EID of this advertisable's organization"),
    _p("is_active", B),
    _p("status", S, "admin_review, approved or rejected"),
    _p("url", S),
    _p("product_name", S),
    _p("click_through_conversion_window", I, "Days"),
    _p("view_through_conversion_window", I, "Days"),
    _p("created_date", DT),
    _p("updated_date", DT),
    _p("attached_users", th.ArrayType(S)),
    _p("blacklisted_sites", th.ArrayType(S)),
    _p("enable_customer_multi_dur_segs", B),
    _p("is_coop_approved", B),
    _p("is_publisher", B),
    _p("iab1_category_id", I),
    _p("iab1_category_name", S),
    _p("iab2_category_id", I),
    _p("iab2_category_name", S),
    _p("iab_content_id", I),
    _p("zvelo_category_id", I),
    _p("zvelo_category_name", S),
    _p("approval_state", S),
    _p("has_privacy_policy", B),
    _p("ops", S),
    _p("optimizer", S),
    _p("saleser", S),
    _p("liquidads", S),
    _p("has_approved_consent_solution", B),
    _p("business_unit", S),
    _p("company_phone", S),
    _p("ecomm_platform_plan", S),
).to_dict()

_ADVERTISABLE_EID = _p("advertisable_eid", S, "EID of the advertisable this entity was read from", required=True)

CAMPAIGN = th.PropertiesList(
    _p("eid", S, "EID of the campaign", required=True),
    _ADVERTISABLE_EID,
    _p("advertisable", S),
    _p("name", S),
    _p("adgroups", th.ArrayType(S), "EIDs of the campaign's adgroups"),
    _p("budget", D, "The WEEKLY budget of the campaign"),
    _p("ui_budget_daily", B),
    _p("created_date", DT),
    _p("updated_date", DT),
    _p("cpc", D),
    _p("cpm", D),
    _p("max_cpm", D),
    _p("start_date", DT),
    _p("end_date", DT, "The date the campaign will end, exclusive (UTC)"),
    _p("is_active", B),
    _p("is_facebook", B),
    _p("is_fbx_newsfeed", B),
    _p("is_retargeting", B),
    _p("is_fb_wca", B),
    _p("is_apple", B),
    _p("is_ctv", B),
    _p("pricing_strategies", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _p("status", S, "admin_review, approved, rejected, cancelled or completed"),
    _p("billing_auth_status", S),
    _p("is_coop", B),
    _p("is_pubgraph", B),
    _p("spend_limit_until", DT),
    _p("bid_strategy", S),
    _p("bid_strategy_target", S),
).to_dict()

AD_GROUP = th.PropertiesList(
    _p("eid", S, "The EID of the adgroup", required=True),
    _ADVERTISABLE_EID,
    _p("name", S),
    _p("campaign", S, "EID of the adgroup's campaign"),
    _p("status", S),
    _p("ad_optimization", S),
    _p("created_date", DT),
    _p("updated_date", DT),
    _p("geo_targets", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _p("ads", th.ArrayType(th.ObjectType(_p("id", S), _p("status", S)))),
    _p("segments", th.ArrayType(th.ObjectType(_p("id", S), _p("is_negative", B)))),
    _p("site_exclusions", th.ArrayType(th.ObjectType(additional_properties=True))),
    _p("platform_targets", th.ArrayType(th.ObjectType(additional_properties=True)), "Deprecated"),
    _p("placement_targets", th.ArrayType(S)),
    _p("flight_timezone", S),
    _p("product_set", th.ObjectType(additional_properties=True), "Deprecated"),
).to_dict()

AD = th.PropertiesList(
    _p("eid", S, "EID of the ad", required=True),
    _ADVERTISABLE_EID,
    _p("advertisable", S),
    _p("name", S),
    _p("adgroups", th.ArrayType(S), "EIDs of the adgroups this ad belongs to"),
    _p("ad_format_id", I),
    _p("ad_format", S),
    _p("ad_format_name", S),
    _p("has_future_campaigns", B),
    _p("destination_url", S),
    _p("headline", S),
    _p("body", S),
    _p("message", S),
    _p("is_active", B),
    _p("src", S),
    _p("status", S, "approved, admin_review or paused"),
    _p("type", S),
    _p("height", I),
    _p("width", I),
    _p("created_date", DT),
    _p("updated_date", DT),
    _p("has_edits", B),
    _p("has_pending_edits", B),
    _p("original_ad", S),
    _p("is_outlined", B),
    _p("outline_color", S),
    _p("valid_clicktag", B),
    _p("display_url_override", S),
).to_dict()

SEGMENT = th.PropertiesList(
    _p("eid", S, "The EID of the segment", required=True),
    _ADVERTISABLE_EID,
    _p("display_name", S),
    _p("name", S),
    _p("type", S, "s, u, c, p, b, e, g, x, l or q"),
    _p("match_method", S),
    _p("pattern", S),
    _p("threshold", I),
    _p("duration", I, "Days"),
    _p("conversion_value", D, "USD"),
    _p("group", I),
    _p("mobile", th.ObjectType(additional_properties=True)),
    _p("product", S),
).to_dict()

_REPORT_COMMON = (
    _p("eid", S, "EID of the reported entity", required=True),
    _p("date", DT, "The report day (midnight UTC)", required=True),
    _p("currency", S, "ISO 4217 currency of cost, cpc and cpm", required=True),
    _p("organization_eid", S, "The organization the report was read for"),
    _p("status", S),
    _p("created_date", DATE),
    _p("impressions", I),
    _p("clicks", I),
    _p("prospects", I),
    _p("cost", D),
    _p("cpc", D),
    _p("cpm", D),
    _p("ctr", D),
)

AD_REPORT = th.PropertiesList(*_REPORT_COMMON, _p("ad", S, "Ad name"), _p("ad_size", S)).to_dict()

CAMPAIGN_REPORT = th.PropertiesList(
    *_REPORT_COMMON,
    _p("campaign", S, "Campaign name"),
    _p("advertiser", S, "Advertisable name"),
    _p("type", S),
    _p("start_date", DATE),
    _p("end_date", DATE),
    _p("budget", D),
).to_dict()

ADVERTISABLE_REPORT = th.PropertiesList(*_REPORT_COMMON, _p("advertisable", S, "Advertisable name")).to_dict()
