"""One error envelope for every API error:
`{"error": {"status": 400, "code": "invalid", "message": "...", "fields": {...}}}`."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from media_analyzer.quotas import QuotaExceeded


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "too_large"


def exception_handler(exc, context):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        error = {"code": "invalid", "message": "Invalid input.", "fields": _field_errors(response.data)}
    elif isinstance(exc, Http404):
        error = {"code": "not_found", "message": "Not found."}
    elif isinstance(exc, exceptions.APIException):
        error = {"code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error", "message": str(exc.detail)}
    else:
        error = {"code": "error", "message": str(response.data)}
    response.data = {"error": {"status": response.status_code, **error}}
    return response


def _as_api_exception(exc):
    """Django's own request errors, which DRF would leave to Django's HTML pages."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):  # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge()
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return exceptions.ParseError(str(exc))
    if isinstance(exc, QuotaExceeded):  # raised by the create services
        return exceptions.PermissionDenied(str(exc), code="quota_exceeded")
    return exc


def _field_errors(data):
    if isinstance(data, list):
        return {"non_field_errors": [str(item) for item in data]}
    return {field: _messages(value) for field, value in data.items()}


def _messages(value):
    if isinstance(value, dict):
        return {key: _messages(item) for key, item in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
        return [_messages(item) for item in value]
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]
