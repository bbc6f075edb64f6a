"""Bad input on every route that takes a body or a path id, signed in as an admin so that nothing is
refused for lack of rights: oversized bodies (413), malformed JSON (400), unknown fields (422) and
injection-looking or malformed ids (4xx) are refused with the error shape, and change nothing.
Per-endpoint value checks (types, ranges, huge limits) live with each resource's tests; schemathesis
(api/test_openapi_fuzz.py) fuzzes every parameter of every operation on top."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
from marshmallow import fields

from service.api import openapi
from service.api.schemas import day
from service.app import create_app
from tests.helpers import BODIES, CATALOG_TABLES, OWNED_TABLES, ContractClient, assert_422, fill, queued_jobs, snapshot

WRITES = {"POST", "PUT", "PATCH"}
PUBLIC_WRITES = [
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
]
# Routes that take no body ignore one (logging out would also end this test's session).
NO_BODY = {
    "/api/v1/auth/logout",
    "/api/v1/auth/verify-email/resend",
    "/api/v1/me/notifications/<int:notification_id>/read",
    "/api/v1/me/notifications/read",
}
ODD_IDS = ["1;DROP TABLE users", "' OR 1=1 --", "..%2F..%2Fetc%2Fpasswd", "-1", "99999999999999999999", "%00"]


def write_routes(app) -> list[tuple[str, str]]:
    routes = [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods & WRITES
    ]
    return sorted(routes)


def test_every_write_route_refuses_bad_bodies(app, client, admin, products, db):
    routes = write_routes(app)
    assert len(routes) >= 20 and set(PUBLIC_WRITES) <= set(routes)
    before = snapshot(db, OWNED_TABLES + CATALOG_TABLES)
    ids = {"product": "op-01-box", "code": "one-piece", "source_id": 1}
    for method, rule in routes:
        path = fill(rule, ids)
        limit = 20 * 1024 * 1024 if "/import/" in rule else 2 * 1024 * 1024
        huge = b'{"x": "' + b"a" * limit + b'"}'
        response = client.open(path, method=method, data=huge, content_type="application/json", headers=admin)
        assert (response.status_code, response.get_json()["code"]) == (413, "payload_too_large"), (method, rule)

        if rule in NO_BODY:
            continue
        response = client.open(path, method=method, data="{not json", content_type="application/json", headers=admin)
        expected = {401} if rule == "/api/v1/auth/refresh" else {400, 404, 422}  # refresh wants a refresh token
        assert response.status_code in expected, (method, rule, response.status_code)
        assert set(response.get_json()) >= {"status", "code", "message", "request_id"}

        body = BODIES.get((method, rule))
        if isinstance(body, dict):
            response = client.open(path, method=method, json={**body, "is_admin": True}, headers=admin)
            assert response.status_code == 422, (method, rule, response.get_json())
            assert "is_admin" in str(response.get_json()["details"]), (method, rule)
    assert snapshot(db, OWNED_TABLES + CATALOG_TABLES) == before


def test_odd_ids_in_paths_are_refused(app, client, admin, products, db):
    before = snapshot(db, OWNED_TABLES + CATALOG_TABLES)
    rules = sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if "<" in rule.rule and rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )
    assert len(rules) >= 15
    for method, rule in rules:
        for odd in ODD_IDS:
            names = ("product", "code", "job_id", "alert_id", "holding_id", "source_id", "notification_id")
            ids = dict.fromkeys(names, odd)
            response = client.open(fill(rule, ids), method=method, json=BODIES.get((method, rule)), headers=admin)
            assert 400 <= response.status_code < 500, (method, rule, odd, response.status_code)
    assert snapshot(db, OWNED_TABLES + CATALOG_TABLES) == before


def test_nul_characters_are_refused_not_crashed_on(client, admin, products, db):
    body = {"product": "op-01-box", "quantity": 1, "unit_cost": 1, "notes": "a\u0000b"}
    response = client.post("/api/v1/me/portfolio", json=body, headers=admin)
    assert response.status_code == 400 and response.get_json()["code"] == "bad_request"
    assert db.execute("SELECT count(*) AS n FROM holdings").fetchone()["n"] == 0


def test_every_get_route_in_the_spec_refuses_an_unknown_query_parameter(client, admin, products):
    """Routes that declare no query arguments too (`/games` once answered 200): the blueprint gives
    every route a query check, so none can forget it."""
    paths = client.get("/openapi.json").get_json()["paths"]
    gets = sorted(path for path, operations in paths.items() if "get" in operations)
    assert len(gets) >= 25 and "/api/v1/games" in gets and "/health" in gets
    ids = {"product": "op-01-box", "job_id": "x", "alert_id": 1, "holding_id": 1}
    for path in gets:
        concrete = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), "x")), path)
        response = client.get(f"{concrete}?bogus_parameter=1", headers=admin)
        assert response.status_code == 422, (path, response.status_code)
        assert "bogus_parameter" in response.get_json()["details"]["query"], path


# --- extreme values: the regression tests of issue 19 (the sweep below generalises them) ---------

HUGE_INTEGER = "1" * 5000  # beyond Python's 4,300-digit limit for converting a string to an int


def test_an_integer_of_thousands_of_digits_is_a_400_on_every_json_route(client, admin, products, db, caplog):
    """It was a 500 (ValueError from the int conversion inside json.loads), with a traceback per request."""
    before = snapshot(db, OWNED_TABLES)
    bodies = {
        "/api/v1/auth/login": '{"email": "ann@example.com", "password": %s}',
        "/api/v1/auth/register": '{"email": "ann@example.com", "password": %s}',
        "/api/v1/auth/password-reset": '{"email": %s}',
        "/api/v1/me/portfolio": '{"product": "op-01-box", "quantity": %s, "unit_cost": 1}',
    }
    for path, body in bodies.items():
        response = client.post(path, data=body % HUGE_INTEGER, content_type="application/json", headers=admin)
        assert response.status_code == 400, (path, response.status_code)
        assert response.get_json()["code"] == "bad_request" and "json" in response.get_json()["details"], path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert snapshot(db, OWNED_TABLES) == before


def test_dates_out_of_the_accepted_range_are_a_422(client, admin, market, db, redis_db):
    """`to=9999-12-31` was a 500 (the day after it overflows), a recompute of 0001..9999 was queued
    and failed, a holding took 0001-01-01."""
    before = snapshot(db, OWNED_TABLES)
    for extreme in ("9999-12-31", "0001-01-01"):
        for query in (f"to={extreme}", f"from={extreme}", f"from={extreme}&to={extreme}"):
            response = client.get(f"/api/v1/products/op-01-box/sales?{query}")
            assert response.status_code == 422, (query, response.status_code)
        holding = {"product": "op-01-box", "quantity": 1, "unit_cost": 1, "acquired_on": extreme}
        assert_422(client.post("/api/v1/me/portfolio", json=holding, headers=admin), "json", "acquired_on")
    recompute = client.post("/api/v1/admin/recompute", json={"from": "0001-01-01", "to": "9999-12-31"}, headers=admin)
    assert recompute.status_code == 422 and set(recompute.get_json()["details"]["json"]) == {"from", "to"}
    # Within the range but a century long: a range is bounded too.
    century = client.post("/api/v1/admin/recompute", json={"from": "1990-01-01", "to": "2090-01-01"}, headers=admin)
    assert_422(century, "json", "from")
    assert queued_jobs(redis_db) == []
    assert snapshot(db, OWNED_TABLES) == before


def test_a_job_id_with_a_trailing_newline_is_a_400(client, admin, redis_db):
    """`$` matches before a final newline: `abc\\n` got through to rq, whose own check raised (a 500)."""
    for odd in ("abc%0A", "abc%0D", "abc%0A%0A", "%0Aabc"):
        response = client.get(f"/api/v1/admin/jobs/{odd}", headers=admin)
        assert response.status_code == 400, (odd, response.status_code)


def test_every_date_the_api_takes_is_bounded(app):
    """The class of `to=9999-12-31`: every date field of every input schema is `day()`
    (service/api/schemas.py), so that no date outside FIRST_DAY..LAST_DAY reaches a view."""
    dates = [
        (schema.__name__, name, field)
        for schema in openapi.reachable(openapi.INPUT_SCHEMAS)
        for name, field in schema._declared_fields.items()
        if isinstance(field, fields.Date | fields.DateTime)
    ]
    assert len(dates) >= 15
    bounded = day().validate
    unbounded = [(schema, name) for schema, name, field in dates if getattr(field, "validate", None) is not bounded]
    assert not unbounded, unbounded


# --- the extreme-values sweep: every typed field of every operation, from the OpenAPI document ---

RAW = "\u0000RAW:"  # marks a value written into the JSON body as is (no JSON has NaN or 5,000 digits)
# Every field gets every one of these, whatever its type: integers far beyond 64 bits and beyond
# Python's 4,300 digits, NaN and infinities, the ends of the calendar as dates and date-times (with an
# offset that takes them over the edge in UTC), control characters and newlines, empty and long strings.
EXTREMES_JSON = [
    2**64, -(2**63) - 1, 10**40, RAW + "9" * 5000, RAW + "-" + "9" * 5000,
    RAW + "NaN", RAW + "Infinity", RAW + "-Infinity", RAW + "1e999", 1e308, -1e-308,
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "", "x" * 100_000, "a\nb", "a\u0000b", "\r\n", "\u202e\u0007", " ",
]  # fmt: skip
EXTREMES_QUERY = [
    str(2**64), str(-(2**63) - 1), "9" * 5000, "NaN", "Infinity", "-inf", "1e999",
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00+14:00",
    "", "x" * 10_000, "a\nb", "a\u0000b", "\r\n",
]  # fmt: skip
EXTREMES_PATH = [
    "abc%0A", "%0Aabc", "abc%0D%0A", "a%09b", "%00", "%7F", "%E2%80%AE", "9" * 5000, "-" + "9" * 30,
    str(2**64), "x" * 5000, "NaN", "0001-01-01", "9999-12-31",
]  # fmt: skip
VALID_PATH = {"product": "op-01-box", "code": "one-piece", "job_id": "x", "kind": "sales"}
VALID_QUERY = {("get", "/api/v1/price-check"): {"price": "10", "product": "op-01-box"}}


def rows(db, tables) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """`snapshot`, each table's rows in an order that does not depend on the plan (ORDER BY 1 has ties)."""
    return {table: sorted(map(repr, found)) for table, found in snapshot(db, tables).items()}


def _json_body(body: dict[str, object]) -> str:
    text = json.dumps(body)
    return re.sub(r'"\\u0000RAW:([^"]*)"', r"\1", text)


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete") and path != "/api/v1/auth/logout"
    ]


def _body_fields(spec: dict, operation: dict) -> list[str]:
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return sorted(schema.get("properties", {}))


@pytest.fixture
def unlimited(settings, migrated, admin):  # type: ignore[no-untyped-def]
    """A test client of an app whose rate limits are out of the way (429 is tested elsewhere)."""
    app = create_app(replace(settings, rate_limit_default="1000000/minute", rate_limit_auth="1000000/minute"))
    app.config["TESTING"] = True
    app.test_client_class = ContractClient
    yield app, app.test_client()
    app.extensions["boxpro.db"].close()


def test_extreme_values_in_every_field_of_every_operation_are_refused_not_crashed_on(
    unlimited, admin, market, db, caplog
):
    """The class of defects 5 and 6 of issue 19: each field of each operation (path, query, JSON body)
    given each extreme value, the others valid, signed in as an admin: a status the operation documents
    (ContractClient), never a 5xx, nothing logged as an error, and nothing changed by what was refused."""
    app, client = unlimited
    spec = client.get("/openapi.json").get_json()
    rules = {re.sub(r"<(?:[^>]*:)?(\w+)>", r"{\1}", r.rule): r.rule for r in app.url_map.iter_rules()}
    problems: list[str] = []
    tables = OWNED_TABLES + CATALOG_TABLES
    state = rows(db, tables)
    sent = 0

    def send(method: str, path: str, what: str, *, query=None, body=None) -> None:  # type: ignore[no-untyped-def]
        nonlocal state, sent
        sent += 1
        data = None if body is None else _json_body(body)
        try:
            response = client.open(
                path, method=method.upper(), query_string=query, data=data, content_type="application/json",
                headers=admin,
            )  # fmt: skip
        except AssertionError as exc:  # ContractClient: a status or body the operation does not document
            problems.append(f"{method.upper()} {path} {what}: {str(exc)[:300]}")
            return
        if response.status_code >= 500:
            problems.append(f"{method.upper()} {path} {what}: {response.status_code}")
        elif method != "get":
            now = rows(db, tables)
            if response.status_code >= 400 and now != state:
                changed = [t for t in tables if now[t] != state[t]]
                problems.append(f"{method.upper()} {path} {what}: refused ({response.status_code}), changed {changed}")
            state = now

    for method, template, operation in _operations(spec):
        rule = rules[template]
        valid_path = fill(rule, VALID_PATH)
        valid_body = BODIES.get((method.upper(), rule), {}) if "requestBody" in operation else None
        valid_query = VALID_QUERY.get((method, template), {})
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if parameter["in"] == "path":
                for odd in EXTREMES_PATH:
                    path = fill(rule, {**VALID_PATH, name: odd})
                    send(method, path, f"path {name}={odd[:20]!r}", query=valid_query, body=valid_body)
            elif parameter["in"] == "query":
                for odd in EXTREMES_QUERY:
                    send(method, valid_path, f"?{name}={odd[:20]!r}", query={**valid_query, name: odd}, body=valid_body)
        for name in _body_fields(spec, operation):
            for odd in EXTREMES_JSON:
                body = {**(valid_body or {}), name: odd}
                send(method, valid_path, f"body {name}={str(odd)[:20]!r}", query=valid_query, body=body)

    assert sent > 2000
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not problems and not errors, "\n".join(problems[:60] + errors[:5]) + f"\n({len(problems)} problems)"


def test_a_value_with_a_final_newline_does_not_pass_a_pattern(client, admin, products, db):
    """Python's `$` matches before a final newline: `^[a-z0-9]+(-[a-z0-9]+)*$` took "lorcana\\n", stored so."""
    response = client.post("/api/v1/admin/games", json={"code": "lorcana\n", "name": "Lorcana"}, headers=admin)
    assert_422(response, "json", "code")
    assert client.get("/api/v1/leaderboard?game=one-piece%0A").status_code == 422
    assert client.get("/api/v1/products/op-01-box%0A").status_code == 400
    assert db.execute("SELECT count(*) AS n FROM games").fetchone()["n"] == 2
