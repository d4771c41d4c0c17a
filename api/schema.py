"""How the OpenAPI schema describes our token authentication and our errors."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from the API tokens page: `Authorization: Bearer hd_...`.",
        }


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "e.g. invalid, not_found, throttled"},
        "errors": {
            "type": "object",
            "description": "Per field (or parameter), its messages.",
            "additionalProperties": {},
        },
    },
    "required": ["detail", "code"],
}
ERRORS = {
    "400": "Invalid input, an unknown parameter, or a change the rules refuse.",
    "401": "No token, or one unknown, expired or revoked.",
    "403": "The token may only read, or its owner may not do this.",
    "404": "Not found, or outside the token's pools (the same answer).",
    "429": "Too many requests with this token: wait Retry-After seconds.",
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation answers errors as ``Error``."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        if path.endswith("/schema/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                response = {
                    "description": description,
                    "content": {"application/json": {"schema": reference}},
                }
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "required": True}
                    }
                responses.setdefault(code, response)
    return result
