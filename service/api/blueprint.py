"""flask-smorest set up our way: the error shape, strict arguments, auth decorators that document themselves."""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

from flask import current_app
from flask_jwt_extended import jwt_required
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from marshmallow import EXCLUDE, RAISE, Schema
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException

from service.api import docs, openapi
from service.api.auth import tokens
from service.api.errors import ApiError, ErrorSchema, http_exception_response
from service.extensions import database


class Api(SmorestApi):
    """flask-smorest's Api, answering errors in the project's one JSON shape (service/api/errors.py)."""

    ERROR_SCHEMA = ErrorSchema

    def _init_spec(self, **options: Any) -> None:
        super()._init_spec(marshmallow_plugin=openapi.ContractPlugin(), **options)

    def _register_responses(self) -> None:
        """The shared responses, one per status, as flask-smorest makes them, errors with an example."""
        for status in HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response |= {"schema": self.ERROR_SCHEMA, "example": openapi.error_example(status)}
            elif status >= 200 and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA  # as flask-smorest does; no route refers to these
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {
            "description": "Default error response",
            "schema": self.ERROR_SCHEMA,
            "example": openapi.error_example(500),
        }
        prepare_response(default, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Any:
        return http_exception_response(error)


class StrictParser(FlaskParser):
    """Unknown query, JSON and form fields are errors (422), not silently dropped.

    webargs excludes unknown query parameters by default whatever the schema says; a client that
    misspells `?sort=` deserves to hear about it. Headers and cookies always carry extras.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {  # noqa: RUF012 - webargs' own class attribute
        "query": RAISE,
        "querystring": RAISE,
        "json": RAISE,
        "form": RAISE,
        "json_or_form": RAISE,
        "files": RAISE,
        "headers": EXCLUDE,
        "cookies": EXCLUDE,
    }

    def load_querystring(self, req: Any, schema: Schema) -> Any:
        """A parameter that takes one value, given twice (`?limit=1&limit=2`), is refused: webargs
        would take the first, and the response cache, whose keys sort the parameters, would hand
        that answer to `?limit=2&limit=1`."""
        proxy = super().load_querystring(req, schema)  # knows which fields take several values
        single = {field.data_key or name for name, field in schema.fields.items()} - proxy.multiple_keys
        repeated = sorted(name for name in single if len(req.args.getlist(name)) > 1)  # unknown ones: 422 anyway
        if repeated:
            raise ApiError(
                422,
                "The request is not valid; see details.",
                details={"query": {name: ["given more than once; it takes one value"] for name in repeated}},
            )
        # No text the database takes holds a NUL: refused here, for every parameter, as a 422 (it was a
        # 400 from the database, which a GET does not document). JSON bodies: errors.py answers 400.
        nul = sorted({name for name, value in req.args.items(multi=True) if "\x00" in value})
        if nul:
            raise ApiError(
                422,
                "The request is not valid; see details.",
                details={"query": {name: ["must not contain a NUL character"] for name in nul}},
            )
        return proxy

    def _raw_load_json(self, req: Any) -> Any:
        """The app's JSON reader (service/app.py, JSONProvider.loads), as Flask's get_json uses it: what
        it refuses (nested too deeply, an integer of thousands of digits, NaN) is a 400 on every route."""
        if not is_json_request(req):
            return core.missing
        return current_app.json.loads(req.get_data(cache=True))


BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def allow_body(max_bytes: int) -> Any:
    """Let a view take bodies up to `max_bytes` (the app's default is 2 MB). Put it right under
    `@blp.route`, so it marks the function that is registered."""

    def mark(view: Any) -> Any:
        view.max_body_bytes = max_bytes
        return view

    return mark


class NoQuery(Schema):
    """The query arguments of a route that takes none: any parameter is unknown, hence a 422."""


QUERY_LOCATIONS = ("query", "querystring")


def takes_query(view: Any) -> bool:
    """Whether a view declares query arguments (`@blp.arguments(..., location="query")`)."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") in QUERY_LOCATIONS for p in parameters)


class Blueprint(SmorestBlueprint):
    """Every resource's blueprint: strict argument parsing, auth decorators that also document
    themselves, and the contract of every operation derived in one place (service/api/openapi.py):
    its operationId from the view's name, its error responses from the route's shape."""

    ARGUMENTS_PARSER = StrictParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_contract_doc)

    def add_url_rule(self, rule: str, endpoint: str | None = None, view_func: Any = None, *a: Any, **kw: Any) -> None:
        """A view that declares no query arguments still gets its query string checked (against
        NoQuery), so no route can forget it: `/games?foo=1` is a 422 like `/leaderboard?foo=1`."""
        if callable(view_func) and not isinstance(view_func, type) and not takes_query(view_func):
            view_func = self.arguments(NoQuery, location="query", as_kwargs=True)(view_func)
        super().add_url_rule(rule, endpoint, view_func, *a, **kw)
        path = (self.url_prefix or "") + rule
        for method, doc in self._docs[self._endpoints[-1]].items():
            if method != "parameters":  # the route's shared parameters, not an operation
                doc["contract"] = {"operation_id": openapi.operation_id(view_func.__name__, method), "path": path}

    @staticmethod
    def _prepare_contract_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], *, method: str, **_: Any
    ) -> dict[str, Any]:
        contract = doc_info["contract"]
        doc["operationId"] = contract["operation_id"]  # @blp.doc(operationId=...) still overrides it
        openapi.plain_summary(doc_info["docstring"])  # applied to the operation after this callback
        manual = doc_info.get("manual_doc", {})  # what @blp.doc says, merged in after this
        takes_body = "requestBody" in doc or "requestBody" in manual
        openapi.document_errors(doc, contract["path"], method, takes_body=takes_body, signed_in="security" in manual)
        return doc

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """Schemas are instantiated here, once: given a class, webargs builds an instance (and copies
        every field) on each request."""
        openapi.record(openapi.INPUT_SCHEMAS, schema)
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)

    def response(self, status_code: Any, schema: Any = None, *args: Any, **kwargs: Any) -> Any:
        openapi.record(openapi.RESPONSE_SCHEMAS, schema)
        return super().response(status_code, schema, *args, **kwargs)

    def alt_response(self, status_code: Any, response: Any = None, *, schema: Any = None, **kwargs: Any) -> Any:
        """An error response without a schema of its own has the error schema, so clients parse it."""
        if response is None and schema is None and int(status_code) >= 400:
            schema = ErrorSchema
            description = kwargs.get("description")
            kwargs.setdefault("example", openapi.error_example(int(status_code), description and f"{description}."))
        openapi.record(openapi.RESPONSE_SCHEMAS, schema)
        return super().alt_response(status_code, response, schema=schema, **kwargs)

    def login_required(self, view: Any) -> Any:
        """A valid access token is needed (401 otherwise); OpenAPI shows the bearer scheme and the 401."""
        guarded = jwt_required()(view)
        guarded = self.alt_response(401, description="Missing, invalid, expired or revoked token")(guarded)
        return self.doc(security=BEARER)(guarded)

    def admin_required(self, view: Any) -> Any:
        """An admin account is needed (403 otherwise). The role is read from the database, not
        only the token's claim, so a demoted admin loses access at once."""

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            row = database().fetch_one("auth/role", {"id": tokens.current_user_id()})
            if row is None or row["role"] != "admin":
                raise ApiError(403, "This needs an admin account.")
            return view(*args, **kwargs)

        return self.login_required(self.alt_response(403, description="Not an admin")(wrapper))


API_SPEC = {
    "API_TITLE": "BoosterBoxPro API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    # Swagger UI and ReDoc, their files served by this service from a pinned package (service/api/docs.py).
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": docs.SWAGGER_UI_URL,
    # No validator badge: it would send the spec's URL to an outside service and load its image.
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    "OPENAPI_REDOC_PATH": "/redoc",
    "OPENAPI_REDOC_URL": docs.REDOC_URL,
}
