"""Merging the services' parts of the API reference: nothing lost, nothing confused."""

from __future__ import annotations

import copy
from typing import Any

from listings.openapi_merge import merge

ERROR = {"type": "object", "properties": {"code": {"type": "integer"}}}
BEARER = {"type": "http", "scheme": "bearer"}


def ref(name: str, section: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{section}/{name}"}


def operation(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "responses": {"200": {"content": {"application/json": {"schema": schema}}}},
        **extra,
    }


def document(paths: dict[str, Any], schemas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "part", "version": "v1"},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearerAuth": BEARER}},
        **extra,
    }


LISTINGS = document(
    {"/api/v1/listings": {"get": operation(ref("Item"))}},
    {"Item": {"type": "object", "properties": {"title": {"type": "string"}}}, "Error": ERROR},
    tags=[{"name": "listings_api"}],
)
NOTIFICATIONS = document(
    {
        "/api/v1/alerts": {"get": operation(ref("Item"), security=[{"bearerAuth": []}])},
        "/api/v1/inbox": {"get": operation(ref("Inbox"))},
    },
    {
        # Same name as a listings schema, another shape.
        "Item": {"type": "object", "properties": {"score": {"type": "number"}}},
        "Inbox": {"type": "object", "properties": {"items": {"items": ref("Item")}}},
        "Error": ERROR,
    },
    tags=[{"name": "listings_api"}, {"name": "alerts_api"}],
)


def test_every_path_of_every_part_is_in_the_merged_document():
    merged, notes = merge(LISTINGS, {"Notifications": NOTIFICATIONS})
    assert set(merged["paths"]) == {"/api/v1/listings", "/api/v1/alerts", "/api/v1/inbox"}
    assert notes == []
    assert [tag["name"] for tag in merged["tags"]] == ["listings_api", "alerts_api"]


def test_a_clashing_schema_is_renamed_and_the_parts_references_follow():
    merged, _ = merge(LISTINGS, {"Notifications": NOTIFICATIONS})
    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == LISTINGS["components"]["schemas"]["Item"]
    assert schemas["NotificationsItem"] == NOTIFICATIONS["components"]["schemas"]["Item"]
    alerts = merged["paths"]["/api/v1/alerts"]["get"]["responses"]["200"]
    assert alerts["content"]["application/json"]["schema"] == ref("NotificationsItem")
    # A reference nested inside another schema follows too.
    assert schemas["Inbox"]["properties"]["items"]["items"] == ref("NotificationsItem")
    listings = merged["paths"]["/api/v1/listings"]["get"]["responses"]["200"]
    assert listings["content"]["application/json"]["schema"] == ref("Item")


def test_what_the_parts_share_is_kept_once_under_its_own_name():
    merged, _ = merge(LISTINGS, {"Notifications": NOTIFICATIONS})
    schemas = merged["components"]["schemas"]
    assert schemas["Error"] == ERROR
    assert "NotificationsError" not in schemas
    assert merged["components"]["securitySchemes"] == {"bearerAuth": BEARER}


def test_a_schema_alike_in_text_but_pointing_at_a_renamed_one_is_renamed_too():
    wrapper = {"type": "object", "properties": {"item": ref("Item")}}
    base = copy.deepcopy(LISTINGS)
    base["components"]["schemas"]["Wrapper"] = wrapper
    part = copy.deepcopy(NOTIFICATIONS)
    part["components"]["schemas"]["Wrapper"] = copy.deepcopy(wrapper)
    part["paths"]["/api/v1/wrapped"] = {"get": operation(ref("Wrapper"))}
    merged, _ = merge(base, {"Notifications": part})
    schemas = merged["components"]["schemas"]
    assert schemas["Wrapper"]["properties"]["item"] == ref("Item")
    assert schemas["NotificationsWrapper"]["properties"]["item"] == ref("NotificationsItem")
    wrapped = merged["paths"]["/api/v1/wrapped"]["get"]["responses"]["200"]
    assert wrapped["content"]["application/json"]["schema"] == ref("NotificationsWrapper")


def test_a_clashing_security_scheme_is_renamed_in_the_requirements_too():
    part = copy.deepcopy(NOTIFICATIONS)
    part["components"]["securitySchemes"]["bearerAuth"] = {"type": "apiKey", "in": "header"}
    merged, _ = merge(LISTINGS, {"Notifications": part})
    schemes = merged["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == BEARER
    assert schemes["NotificationsbearerAuth"]["type"] == "apiKey"
    alerts = merged["paths"]["/api/v1/alerts"]["get"]
    assert alerts["security"] == [{"NotificationsbearerAuth": []}]


def test_an_operation_two_parts_claim_is_kept_once_and_reported():
    part = document({"/api/v1/listings": {"get": operation(ref("Error"))}}, {"Error": ERROR})
    merged, notes = merge(LISTINGS, {"Monitor": part})
    listings = merged["paths"]["/api/v1/listings"]["get"]["responses"]["200"]
    assert listings["content"]["application/json"]["schema"] == ref("Item")
    assert notes == ["GET /api/v1/listings of Monitor is also in another part"]


def test_the_inputs_are_left_as_they_were():
    before = copy.deepcopy((LISTINGS, NOTIFICATIONS))
    merge(LISTINGS, {"Notifications": NOTIFICATIONS})
    assert before == (LISTINGS, NOTIFICATIONS)
