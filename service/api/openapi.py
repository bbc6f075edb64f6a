"""What the OpenAPI document says about every operation without its view having to: a stable
operationId, the error responses its route can answer (each with the one error schema), and which
response properties are always sent. Client generators build names, error models and types from
these, so they are derived in one place and cover routes added later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema, fields

from service.api.errors import CODES

# A view named verb_object is its own operationId (create_alert -> createAlert). A view named for
# what it returns (games, leaderboard) gets the verb of its method (GET games -> getGames).
VERBS = frozenset({
    "get", "list", "search", "create", "add", "update", "set", "replace", "change", "delete", "remove",
    "deactivate", "enable", "disable", "register", "login", "logout", "refresh", "revoke", "verify",
    "confirm", "request", "reset", "send", "resend", "mark", "trigger", "run", "recompute", "import",
    "export", "check", "validate",
})  # fmt: skip
METHOD_VERBS = {"get": "get", "post": "create", "put": "set", "patch": "update", "delete": "delete"}


def operation_id(view_name: str, method: str) -> str:
    words = [word for word in view_name.lower().split("_") if word]
    if words[0] not in VERBS:
        words.insert(0, METHOD_VERBS[method.lower()])
    return words[0] + "".join(word.capitalize() for word in words[1:])


def error_statuses(path: str, method: str, *, takes_body: bool, signed_in: bool) -> Iterator[HTTPStatus]:
    """The error statuses any route of this shape can answer, beyond what its view documents itself.

    Probes (outside /api/) are not rate limited, take no input and report their own failures."""
    if not path.startswith("/api/"):
        return
    names_by_text = re.search(r"<(string:)?\w+>", path) is not None  # a slug or id that can be malformed
    if takes_body or names_by_text:
        yield HTTPStatus.BAD_REQUEST  # malformed JSON, a malformed reference, a value the database refuses
    if signed_in:
        yield HTTPStatus.UNAUTHORIZED  # no, an expired or a revoked token
    if "<" in path:
        yield HTTPStatus.NOT_FOUND  # nothing by that id (or not yours)
    if takes_body or method in ("post", "put", "patch"):
        yield HTTPStatus.REQUEST_ENTITY_TOO_LARGE  # checked before dispatch, even where no body is read
    yield HTTPStatus.UNPROCESSABLE_ENTITY  # arguments that fail validation, unknown ones included
    yield HTTPStatus.TOO_MANY_REQUESTS
    yield HTTPStatus.SERVICE_UNAVAILABLE  # the database is restarting: retry after Retry-After


def plain_summary(docstring: dict[str, str]) -> None:
    """Swagger UI shows an operation's summary as plain text and its description as Markdown. The
    summary (a docstring's first paragraph) becomes its first sentence without backticks; a paragraph
    of several sentences moves whole, as written, to the top of the description."""
    paragraph = " ".join(docstring.get("summary", "").split())
    first, _, rest = paragraph.partition(". ")
    if rest:
        docstring["description"] = "\n\n".join(filter(None, [paragraph, docstring.get("description")]))
        first += "."
    if paragraph:
        docstring["summary"] = first.replace("`", "")


def document_errors(operation: dict[str, Any], path: str, method: str, *, takes_body: bool, signed_in: bool) -> None:
    """Add the route's error responses that are not documented yet, as references to the shared
    responses (flask-smorest registers one per status, each with the error schema)."""
    responses = operation.setdefault("responses", {})
    documented = {str(status) for status in responses}
    for status in error_statuses(path, method, takes_body=takes_body, signed_in=signed_in):
        if str(int(status)) not in documented:
            responses[str(int(status))] = status.name


# What an error body looks like, per status, for the examples of the error responses.
EXAMPLE_MESSAGES = {
    400: "A product is named by its numeric id or its slug.",
    401: "Missing, invalid, expired or revoked token.",
    403: "This needs an admin account.",
    404: "No product 'op-99-booster-box'.",
    409: "An account with that email address exists.",
    413: "The request body is larger than this endpoint takes.",
    415: "Send JSON (application/json) or CSV (text/csv).",
    422: "The request is not valid; see details.",
    429: "Too many requests: the limit is 120 per 60 s. Retry after 12 s.",
    503: "The database is unavailable for a moment; retry shortly.",
}


def error_example(status: int, message: str | None = None) -> dict[str, Any]:
    example: dict[str, Any] = {
        "status": status,
        "code": CODES.get(status, "error"),
        "message": message or EXAMPLE_MESSAGES.get(status) or HTTPStatus(status).phrase + ".",
    }
    example["details"] = (
        {"query": {"limit": ["Must be greater than or equal to 1 and less than or equal to 200."]}}
        if status == 422
        else {}
    )
    example["request_id"] = "0f9c2b6e4d3a4e0b"
    return example


# Schemas that describe response bodies, and those that describe input; recorded by the Blueprint's
# response and arguments decorators (service/api/blueprint.py).
RESPONSE_SCHEMAS: set[type[Schema]] = set()
INPUT_SCHEMAS: set[type[Schema]] = set()


def record(registry: set[type[Schema]], schema: Any) -> None:
    if isinstance(schema, Schema):
        registry.add(type(schema))
    elif isinstance(schema, type) and issubclass(schema, Schema):
        registry.add(schema)


def _nested(schema: type[Schema]) -> Iterator[type[Schema]]:
    for field in schema._declared_fields.values():
        while isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Nested):
            nested = field.nested
            if isinstance(nested, Schema):
                yield type(nested)
            elif isinstance(nested, type) and issubclass(nested, Schema):
                yield nested


def reachable(roots: Iterable[type[Schema]]) -> set[type[Schema]]:
    seen: set[type[Schema]] = set()
    stack = list(roots)
    while stack:
        schema = stack.pop()
        if schema not in seen:
            seen.add(schema)
            stack.extend(_nested(schema))
    return seen


OPTIONAL = "optional"
"""Field metadata flag: a response property the server may leave out (`metadata={"optional": True}`)."""


ENUM_KEYWORDS = ("type", "enum", "title", "x-enum-varnames")


class ContractConverter(OpenAPIConverter):
    """A schema used only in responses lists every property as required: the server always sends
    each one (null where the field allows none), unless the field is flagged OPTIONAL. Input schemas
    keep marshmallow's own `required`.

    A named enum (service/api/schemas.py `enum`) becomes one component schema that every field of
    that name refers to, so generators make one class (Direction), not one per use."""

    def field2property(self, field: fields.Field) -> dict[str, Any]:
        prop: dict[str, Any] = super().field2property(field)
        if "enum" not in prop or "title" not in prop:
            return prop
        values = [value for value in prop["enum"] if value is not None]
        enum = {"type": "string", "title": prop["title"], "enum": values}
        if "x-enum-varnames" in prop:
            enum["x-enum-varnames"] = prop["x-enum-varnames"]
        known = self.spec.components.schemas.get(prop["title"])
        if known is None:
            self.spec.components.schema(prop["title"], enum)
        elif known != enum:
            raise ValueError(f"enum {prop['title']} is declared with different values: {known} and {enum}")
        ref = {"$ref": f"#/components/schemas/{prop['title']}"}
        rest = {key: value for key, value in prop.items() if key not in ENUM_KEYWORDS}
        nullable = len(values) < len(prop["enum"])
        return {"anyOf": [ref, {"type": "null"}], **rest} if nullable else {**ref, **rest}

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema: dict[str, Any] = super().schema2jsonschema(schema)
        schema_cls = schema if isinstance(schema, type) else type(schema)
        if schema_cls in reachable(RESPONSE_SCHEMAS) - reachable(INPUT_SCHEMAS):
            required = sorted(
                (field.data_key or name)
                for name, field in schema_cls._declared_fields.items()
                if not field.load_only and not field.metadata.get(OPTIONAL)
            )
            jsonschema.pop("required", None)
            if required:
                jsonschema["required"] = required
        return jsonschema


class ContractPlugin(MarshmallowPlugin):
    Converter = ContractConverter
