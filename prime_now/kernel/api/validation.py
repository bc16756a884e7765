"""Request validation on one shared serializer instance per class, for the hot endpoints.

A DRF serializer deep-copies its declared fields, nested ones included, every time one is
built: for the checkout body that copy cost five times the validation itself. Validating
(`run_validation`) keeps no state on the instance, so one instance per class can serve every
request and thread. Only for input serializers whose validation needs no context (request,
view, instance).
"""

from functools import cache
from typing import Any

from rest_framework import serializers


@cache
def _instance(serializer_class: type[serializers.Serializer[Any]]) -> serializers.Serializer[Any]:
    return serializer_class()


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """`serializer_class(data=data)`'s validated_data; raises the same ValidationError as
    `is_valid(raise_exception=True)`."""
    found: dict[str, Any] = _instance(serializer_class).run_validation(data)
    return found
