"""Every error, whatever raised it, has the same JSON shape and carries the request id."""

from __future__ import annotations

import json
import logging

import pytest
from marshmallow import RAISE, Schema, fields, validate

from service.api.blueprint import Blueprint
from service.api.errors import ApiError
from service.app import create_app
from service.core.logs import JsonFormatter, new_request_id, request_id_var
from tests.helpers import make_settings


class EchoQuery(Schema):
    class Meta:
        unknown = RAISE

    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))


class EchoBody(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(1, 20))


@pytest.fixture(scope="module")
def error_client(migrated):
    app = create_app(make_settings())
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(EchoQuery, location="query")
    @blp.arguments(EchoBody)
    def echo(query, body):
        return {"limit": query["limit"], **body}

    @blp.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @blp.route("/conflict")
    def conflict():
        raise ApiError(409, "That slug is taken.", details={"slug": ["already used"]})

    app.extensions["flask-smorest"]["apis"][""]["ext_obj"].register_blueprint(blp)
    return app.test_client()


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    # One shape for every error, `details` included ({} when there is nothing per field): issue 19.
    assert set(body) == {"status", "code", "message", "details", "request_id"}
    assert isinstance(body["details"], dict)
    assert (body["status"], body["code"]) == (status, code)
    assert body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


def test_404(error_client):
    assert_error_shape(error_client.get("/no/such/thing"), 404, "not_found")


def test_405_names_the_allowed_methods(error_client):
    response = error_client.delete("/health")
    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_400_for_malformed_json(error_client):
    response = error_client.post("/probe/echo", data="{not json", content_type="application/json")
    assert_error_shape(response, 400, "bad_request")


def test_422_names_each_bad_field_and_rejects_unknown_ones(error_client):
    response = error_client.post("/probe/echo?limit=500&bogus=1", json={"name": "ok"})
    body = assert_error_shape(response, 422, "validation_error")
    assert set(body["details"]["query"]) == {"limit", "bogus"}
    response = error_client.post("/probe/echo", json={"name": "", "extra": 1})
    body = assert_error_shape(response, 422, "validation_error")
    assert set(body["details"]["json"]) == {"name", "extra"}


def test_valid_input_passes(error_client):
    response = error_client.post("/probe/echo?limit=5", json={"name": "op-13"})
    assert response.status_code == 200
    assert response.get_json() == {"limit": 5, "name": "op-13"}


def test_500_hides_internals(error_client, caplog):
    with caplog.at_level(logging.ERROR):
        response = error_client.get("/probe/boom")
    body = assert_error_shape(response, 500, "internal_error")
    assert "hunter2" not in response.get_data(as_text=True)
    assert body["message"] == "Internal server error."
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_api_errors_carry_their_code_and_details(error_client):
    body = assert_error_shape(error_client.get("/probe/conflict"), 409, "conflict")
    assert body["details"] == {"slug": ["already used"]}


def test_413_for_oversized_bodies(error_client):
    response = error_client.post("/probe/echo", data="x" * (3 * 1024 * 1024), content_type="application/json")
    assert_error_shape(response, 413, "payload_too_large")


def test_a_safe_incoming_request_id_is_echoed_and_an_unsafe_one_replaced(error_client):
    assert error_client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    replaced = error_client.get("/health", headers={"X-Request-ID": "evil<script>" + "x" * 80}).headers["X-Request-ID"]
    assert "<" not in replaced and len(replaced) == 32


def test_log_lines_are_json_with_the_request_id():
    token = request_id_var.set(new_request_id("req-42"))
    try:
        record = logging.LogRecord("boxpro.test", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        record.status = 200
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["status"] == 200
    assert line["level"] == "info"


def test_every_request_is_logged_with_its_request_id(error_client, caplog):
    with caplog.at_level(logging.INFO, logger="boxpro.access"):
        response = error_client.get("/health", headers={"X-Request-ID": "log-me"})
    access = [r for r in caplog.records if r.name == "boxpro.access"]
    assert response.status_code == 200
    assert access and access[-1].path == "/health" and access[-1].status == 200
    assert json.loads(JsonFormatter().format(access[-1])).get("request_id") in {"log-me", None}
