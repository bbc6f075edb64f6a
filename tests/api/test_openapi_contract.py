"""The OpenAPI document as a client generator reads it: operation ids, error responses with the error
schema, named enums, required properties, and summaries written for clients.
(The generated client itself runs a journey in tests/api/test_generated_client.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.api.openapi import VERBS

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return app.test_client().get("/openapi.json").get_json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op) for path, item in spec["paths"].items() for method, op in item.items() if method in METHODS
    ]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def walk(node: Any, where: str = "") -> Any:
    """Every (location, schema) pair under node."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{where}/{index}")


def test_every_operation_has_a_unique_readable_operation_id(spec):
    ops = operations(spec)
    ids = [op.get("operationId") for _, _, op in ops]
    assert len(ops) >= 54
    assert None not in ids
    assert len(set(ids)) == len(ids), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+([A-Z][a-z0-9]*)*", operation_id), operation_id
        assert re.match(r"[a-z]+", operation_id)[0] in VERBS, operation_id  # type: ignore[index]
    by_route = {(method, path): op["operationId"] for method, path, op in ops}
    assert by_route["get", "/api/v1/leaderboard"] == "getLeaderboard"
    assert by_route["get", "/api/v1/products/{product}"] == "getProduct"
    assert by_route["post", "/api/v1/me/watchlist"] == "addWatchlistItem"
    assert by_route["delete", "/api/v1/me/watchlist/{product}"] == "removeWatchlistItem"
    assert by_route["post", "/api/v1/auth/register"] == "register"


def test_every_error_response_carries_the_error_schema(spec):
    missing = []
    for method, path, op in operations(spec):
        for status, response in op["responses"].items():
            if status == "default" or (int(status) >= 400 and (path, status) != ("/health/ready", "503")):
                content = resolve(spec, response).get("content", {}).get("application/json", {})
                example = content.get("example", {})
                if content.get("schema") != {"$ref": "#/components/schemas/Error"}:
                    missing.append(f"{method.upper()} {path} {status}: no error schema")
                elif status != "default" and example.get("status") != int(status):
                    missing.append(f"{method.upper()} {path} {status}: no example")
    assert not missing


def test_routes_document_the_errors_their_shape_can_answer(spec):
    for method, path, op in operations(spec):
        if not path.startswith("/api/"):
            continue
        documented = set(op["responses"])
        where = f"{method.upper()} {path}"
        assert {"422", "429", "503"} <= documented, where
        if "{" in path:
            assert "404" in documented, where
        if "requestBody" in op:
            assert {"400", "413"} <= documented, where
        if op.get("security"):
            assert "401" in documented, where
        if path.startswith("/api/v1/admin/"):
            assert "403" in documented, where
    # Errors views raise themselves, documented at the view.
    assert "403" in spec["paths"]["/api/v1/me/password"]["post"]["responses"]
    assert "401" in spec["paths"]["/api/v1/auth/refresh"]["post"]["responses"]
    for path in ("/api/v1/leaderboard", "/api/v1/movers", "/api/v1/market/index/history"):
        assert "404" in spec["paths"][path]["get"]["responses"], path  # before any metrics are computed


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def test_every_enum_is_named_for_generators(spec):
    """A named enum becomes one class with readable members (Direction.ASC, Period.SEVEN_DAYS), not
    VALUE_0 or one class per use: one component schema, referred to wherever it is used."""
    for where, node in walk(spec):
        if "enum" not in node:
            continue
        assert node.get("title"), f"{where}: an enum without a title"
        assert None not in node["enum"], f"{where}: null belongs beside the enum, not in it"
        if not all(IDENTIFIER.fullmatch(str(value)) for value in node["enum"]):
            names = node.get("x-enum-varnames", [])
            assert len(names) == len(node["enum"]) and all(IDENTIFIER.fullmatch(n) for n in names), where
    schemas = spec["components"]["schemas"]
    assert schemas["Period"]["x-enum-varnames"] == ["ONE_DAY", "SEVEN_DAYS", "THIRTY_DAYS"]
    params = {p["name"]: p for p in spec["paths"]["/api/v1/leaderboard"]["get"]["parameters"]}
    assert params["direction"]["schema"] == {"$ref": "#/components/schemas/Direction"}  # not "or null"
    assert schemas["LeaderboardMeta"]["properties"]["direction"]["$ref"] == "#/components/schemas/Direction"
    change = schemas["LeaderboardRow"]["properties"]["change_1d"]["anyOf"]
    assert change == [{"$ref": "#/components/schemas/RankChange"}, {"type": "null"}]
    assert schemas["MetricsSummary"]["properties"]["liquidity_label"]["anyOf"][0] == {
        "$ref": "#/components/schemas/LiquidityLabel"
    }


def test_properties_the_server_always_sends_are_required(spec):
    schemas = spec["components"]["schemas"]
    for name in ("LeaderboardRow", "MetricsSummary", "ProductSummary", "Product", "Sale", "Listing", "MarketIndex"):
        schema = schemas[name]
        assert sorted(schema.get("required", [])) == sorted(schema["properties"]), name
    # request_id is optional (gunicorn answers some errors before there is a request id); details is {} at least.
    assert sorted(schemas["Error"]["required"]) == ["code", "details", "message", "status"]
    assert "required" not in schemas["HoldingPatch"]  # input keeps its own rules


def test_success_bodies_show_examples(spec):
    schemas = spec["components"]["schemas"]
    shown = {
        "ProductSummary": ("id", "slug", "name", "game", "set_code", "product_type", "release_date"),
        "Meta": ("total", "limit", "offset"),
        "User": ("id", "email", "created_at"),
        "Tokens": ("token_type", "expires_in"),
        "Game": ("code", "name", "products"),
    }
    for name, properties in shown.items():
        for prop in properties:
            assert "example" in schemas[name]["properties"][prop], f"{name}.{prop}"


def test_loose_types_are_tight(spec):
    schemas = spec["components"]["schemas"]
    assert schemas["History"]["properties"]["data"]["items"] == {"$ref": "#/components/schemas/HistoryPoint"}
    point = schemas["HistoryPoint"]
    assert point["required"] == ["period"]  # and the metrics asked for, each typed
    assert point["properties"]["units_sold"]["type"] == ["integer", "null"]
    assert point["properties"]["momentum"]["type"] == ["number", "null"]
    assert schemas["JobState"]["properties"]["result"]["type"] == ["object", "null"]
    assert schemas["JobState"]["properties"]["status"] == {"$ref": "#/components/schemas/JobStatus"}


def test_summaries_are_written_for_clients(spec):
    for method, path, op in operations(spec):
        text = f"{op.get('summary', '')} {op.get('description', '')}"
        assert op.get("summary"), f"{method.upper()} {path}"
        assert not re.search(r"SPEC|ARCHITECTURE|§|\.md\b", text), f"{method.upper()} {path}: {text}"


def test_summaries_are_plain_text(client, db):
    """Swagger UI shows a summary as plain text (descriptions are Markdown): a docstring's `code` there
    showed its backticks (issue 19)."""
    spec = client.get("/openapi.json").get_json()
    raw = [
        f"{method.upper()} {path}: {operation['summary']}"
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method != "parameters" and "`" in operation.get("summary", "")
    ]
    assert not raw, "\n".join(raw)
