"""Input building blocks shared by the apps' API serializers: a JSON body's values must have
the JSON types its schema gives (DRF alone takes "5" for an integer, 1 or "yes" for a boolean
and 5 for a string), and a strict input refuses fields it does not know. Both are refused
with 400, and the OpenAPI schema says so (prime_now/kernel/api/schema.py reads
`StrictInput` and its `openapi_constraints`)."""

from typing import Any, ClassVar

from django.http import QueryDict
from rest_framework import serializers

# The JSON types each kind of field takes in a JSON body (first match wins; bool is not an
# int here). Query strings and multipart forms are text: they are not checked.
JSON_TYPES: tuple[
    tuple[type[serializers.Field[Any, Any, Any, Any]], tuple[type, ...], str], ...
] = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.DecimalField, (str,), "a string"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.CharField, (str,), "a string"),
    (serializers.DateField, (str,), "a string"),
    (serializers.DateTimeField, (str,), "a string"),
    (serializers.ListField, (list,), "an array"),
    (serializers.ListSerializer, (list,), "an array"),
    (serializers.Serializer, (dict,), "an object"),
)

# A schema's "at least one character that is not a space" (what DRF's CharField refuses blank).
NOT_BLANK: dict[str, str] = {"pattern": r"\S"}


def _json_type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    if value is None:
        return None
    for kind, types, name in JSON_TYPES:
        if isinstance(field, kind):
            if isinstance(value, bool) and bool not in types:
                return f"Must be {name}."
            return None if isinstance(value, types) else f"Must be {name}."
    return None


class JsonInput(serializers.Serializer[Any]):
    # A JSON body's fields, each of the JSON type the schema gives (400 otherwise). No
    # docstring: drf-spectacular would make it every input's description.

    # JSON Schema keywords the fields alone cannot say (e.g. an `anyOf` for "substitute_sku is
    # required with specific"), added to the request's schema.
    openapi_constraints: ClassVar[dict[str, Any]] = {}

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            errors: dict[str, Any] = {}
            for name, field in self.fields.items():
                if name not in data or field.read_only or data[name] is None:
                    continue  # a null: the field's own allow_null decides
                problem = _json_type_error(field, data[name])
                if problem is None and isinstance(field, serializers.ListField):
                    items = (_json_type_error(field.child, item) for item in data[name])
                    problem = next(filter(None, items), None)
                if problem:
                    errors[name] = [problem]
            if errors:
                # With the other fields' errors too, as DRF would give them.
                rest = {name: value for name, value in data.items() if name not in errors}
                try:
                    super().to_internal_value(rest)
                except serializers.ValidationError as others:
                    if isinstance(others.detail, dict):
                        errors = {**others.detail, **errors}
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictInput(JsonInput):
    # Unknown fields are refused with 400, not ignored. (No docstring, as above.)

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field cannot be set."] for name in unknown}
                )
        return super().to_internal_value(data)


def required_with(
    field: str, value: str, other: str, *, choices: list[str], nullable: bool = False
) -> dict[str, Any]:
    """`openapi_constraints` for "`other` (not blank) is required when `field` is `value`"."""
    others: list[str | None] = [choice for choice in choices if choice != value]
    if nullable:
        others.append(None)
    return {
        "anyOf": [
            {"properties": {field: {"enum": others, "nullable": nullable}}},
            {"required": [other], "properties": {other: NOT_BLANK}},
        ]
    }
