"""Every API error is JSON: ``{"detail": message, "code": code, "errors": {field: [...]}}``."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for value in errors.values():
            return _first_message(value)
    if isinstance(errors, list) and errors:
        return _first_message(errors[0])
    return str(errors)


def json_exception_handler(exc, context):
    """DRF's handler (status, WWW-Authenticate, Retry-After), with one body shape.

    A service's ValidationError (the status machine, a junior's held status) is a 400 with
    its message; a service's PermissionDenied is a 404, as in the UI: nobody learns what
    exists from a refusal.
    """
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied | Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"detail": response.data}
        response.data = {
            "detail": _first_message(errors) or _("Invalid input."),
            "code": "invalid",
            "errors": errors,
        }
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = {
            "detail": str(detail),
            "code": codes if isinstance(codes, str) else "error",
        }
    return response


@csrf_exempt  # it changes nothing; a POST to it must get this 404, not the CSRF page
def not_found(request, *args, **kwargs):
    """Any path under /api/ that is no endpoint: JSON, not the HTML 404 page."""
    return JsonResponse({"detail": _("No such endpoint."), "code": "not_found"}, status=404)
