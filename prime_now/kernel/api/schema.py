"""How the OpenAPI schema (drf-spectacular) describes the project's security schemes."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


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
