"""How the OpenAPI schema (drf-spectacular) describes the API: its security schemes, and the
error answers every operation can give, in the one error shape (prime_now/kernel/api/errors.py).

The error statuses are derived from each view's own classes, so a view lists only its success
answer and the errors of its use case (409, 422, ...); what its authentication, permissions,
throttles, parsers and parameters make it answer is added here, the same way for every view:

- 400 when it reads a body, query parameters or a header (invalid input, malformed JSON);
- 401 when it authenticates callers (none or a bad token), with `WWW-Authenticate`;
- 403 when a permission beyond signing in is checked (a role, a scope), or the session's CSRF
  check applies (unsafe methods);
- 404 when its path names something (not found, or not yours);
- 415 when it reads a body (another media type than it parses);
- 429 when it is throttled, with `Retry-After`;
- 503 everywhere (the database or the broker is out, or the load is shed), with `Retry-After`.
"""

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated

from .serializers import JsonInput, StrictInput

CONSTRAINTS = "x-input-constraints"
# Text without NUL characters; and with at least one character that is not a space.
TEXT = r"^[^\x00]*$"
TEXT_NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"

DESCRIPTIONS = {
    400: "Invalid input: the fields at fault are named in `error.fields`.",
    401: "Not signed in, or the token is unknown, expired or revoked.",
    403: "Signed in, but not allowed (role, scope, or a session request without its CSRF token).",
    404: "Not found (or not yours).",
    415: "The body is not in a media type this operation reads.",
    429: "Too many requests: wait `Retry-After` seconds.",
    503: "Temporarily unavailable: try again after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
RESPONSE_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "How to authenticate (`Token`).",
            "schema": {"type": "string"},
        }
    },
    429: RETRY_AFTER,
    503: RETRY_AFTER,
}


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable (e.g. `window_full`).",
                },
                "message": {
                    "type": "string",
                    "description": "For people: what went wrong, what to do.",
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "The input fields at fault, with their messages (or {}).",
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus every error status the view can answer (see the
    module's docstring), each with the error shape; errors a view declares without a body
    (`OpenApiResponse(description=...)`) get the error shape too."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            # An empty optional query parameter (`?before=`) is taken as left out.
            if parameter["in"] == "query" and not parameter.get("required"):
                schema = parameter["schema"]
                schema.pop("minLength", None)
                if "pattern" in schema:
                    schema["pattern"] = f"^$|{schema['pattern']}"
                elif schema.get("type") == "string" and "format" in schema:
                    parameter["schema"] = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
        constraints = getattr(self.view, "query_constraints", None)
        if constraints:
            operation["parameters"] = _query_object(operation["parameters"], constraints)
        responses = operation["responses"]
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
        error = ResolvedComponent("Error", ResolvedComponent.SCHEMA, ERROR_SCHEMA, "Error")  # type: ignore[no-untyped-call]
        self.registry.register_on_missing(error)
        for code, response in responses.items():
            status = int(code)
            if status < 400:
                continue
            response.setdefault("content", {"application/json": {"schema": error.ref}})
            if status in RESPONSE_HEADERS:
                response.setdefault("headers", {}).update(RESPONSE_HEADERS[status])
        return operation

    def _map_serializer_field(self, field: Any, direction: str, *args: Any, **kwargs: Any) -> Any:
        schema = super()._map_serializer_field(field, direction, *args, **kwargs)  # type: ignore[no-untyped-call]
        # Text never holds NUL characters (DRF refuses them); text that is trimmed and may not be
        # blank needs more than spaces.
        regex = any(isinstance(v, RegexValidator) for v in field.validators)  # its own pattern
        if direction == "request" and isinstance(field, serializers.CharField) and not regex:
            trimmed = field.trim_whitespace and not field.allow_blank
            schema.setdefault("pattern", TEXT_NOT_BLANK if trimmed else TEXT)
        # A decimal at or above 0 has no minus sign (its schema is a string with a pattern).
        minimum = getattr(field, "min_value", None)
        if isinstance(field, serializers.DecimalField) and minimum is not None and minimum >= 0:
            schema["pattern"] = schema.get("pattern", "").replace("^-?", "^")
        # A list of objects (ListSerializer) gets no length limits from drf-spectacular.
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            if not field.allow_empty:
                schema.setdefault("minItems", 1)
            longest = getattr(field, "max_length", None)
            if longest is not None:
                schema.setdefault("maxItems", longest)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)  # type: ignore[no-untyped-call]
        # drf-spectacular offers blank text as a second choice (oneOf) when text has a pattern;
        # text without NUL may be blank already, and "" would then match both choices.
        choices = schema.get("oneOf", [])
        blank_already = len(choices) == 2 and choices[0].get("pattern") == TEXT
        if blank_already and not {"format", "minLength"} & set(choices[0]):
            schema.update(schema.pop("oneOf")[0])

    def _map_serializer(self, serializer: Any, direction: str, *args: Any, **kwargs: Any) -> Any:
        schema = super()._map_serializer(serializer, direction, *args, **kwargs)  # type: ignore[no-untyped-call]
        if direction == "request" and isinstance(serializer, JsonInput):
            if serializer.openapi_constraints:
                # Added by input_constraints(), after drf-spectacular's enum hook (which would
                # take their enums for choice sets).
                schema[CONSTRAINTS] = serializer.openapi_constraints
            if isinstance(serializer, StrictInput):
                schema["additionalProperties"] = False
        return schema

    def _error_statuses(self, operation: dict[str, Any]) -> set[int]:
        view = self.view
        statuses = {503}
        located = {parameter["in"] for parameter in operation.get("parameters", [])}
        if "requestBody" in operation:
            statuses |= {400, 415}
        if located & {"query", "header"}:
            statuses.add(400)
        if "path" in located:
            statuses.add(404)
        authenticators = view.get_authenticators()
        permissions = view.get_permissions()
        if authenticators:
            # DRF answers 403 instead of 401 when the first authenticator names no scheme.
            scheme = authenticators[0].authenticate_header(view.request)
            statuses.add(401 if scheme else 403)
        if any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions):
            statuses.add(403)
        session = any(isinstance(a, SessionAuthentication) for a in authenticators)
        if session and self.method not in SAFE_METHODS:
            statuses.add(403)
        if view.get_throttles():
            statuses.add(429)
        return statuses


def _query_object(parameters: list[dict[str, Any]], constraints: dict[str, Any]) -> Any:
    """The query parameters as one object (`style: form, explode: true`: sent as the same
    `?name=value&...`), so that its schema can say what one parameter cannot: which ones are
    required together (the view's `query_constraints`, JSON Schema keywords)."""
    query = [parameter for parameter in parameters if parameter["in"] == "query"]
    properties = {
        parameter["name"]: {**parameter["schema"], "description": parameter.get("description", "")}
        for parameter in query
    }
    whole = {
        "in": "query",
        "name": "query",
        "style": "form",
        "explode": True,
        "required": True,
        "schema": {"type": "object", "properties": properties, **constraints},
    }
    return [parameter for parameter in parameters if parameter["in"] != "query"] + [whole]


def input_constraints(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A postprocessing hook: each input's `openapi_constraints` joins its schema."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        schema.update(schema.pop(CONSTRAINTS, {}))
    return result


class DeviceTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "prime_now.kernel.api.auth.DeviceTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        scheme: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
        scheme["description"] = "A user's device token from `POST /api/v1/auth/token`."
        return scheme


class PartnerKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "prime_now.kernel.api.auth.PartnerKeyAuthentication"
    name = "partnerKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A partner API key, sent as `Authorization: Api-Key <key>`. Each "
            "operation that accepts keys says which scope it needs (catalog:read, "
            "promise:read, orders:write, tracking:read).",
        }
