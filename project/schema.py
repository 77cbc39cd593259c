"""The OpenAPI schema describes every answer: the errors of each operation, not only 2xx.

``AutoSchema`` adds to each operation the error answers the API can give it, all with the
one error body (``Error``); a view declares the errors only it knows of (409, say) with
``OpenApiResponse(description=...)``, and the body is filled in here. It also names the
request serializers nested in a view (``OrderListApi.InputSerializer`` is
``OrderListInput``), so that no two operations share a request component, and lists an
operation that anyone may call as such.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular import openapi
from rest_framework import permissions, serializers
from rest_framework.request import Request

from .filters import INT64_MAX, INT64_MIN

ERROR_DESCRIPTIONS = {
    400: "The request is invalid: `errors` names each field (or parameter) at fault.",
    401: "No valid credentials: send `Authorization: Token <token>`.",
    403: "Not allowed: staff only, a missing CSRF token (session), or a bad signature.",
    404: "Not found, or not yours to see.",
    413: "The request body is larger than the server accepts.",
    429: "Too many requests: wait for `Retry-After` seconds.",
    503: "A service the API needs (the database) is unavailable: try again later.",
}
SAFE_METHODS = permissions.SAFE_METHODS


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(help_text="What went wrong, for a program to branch on.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Each field or parameter at fault, with its messages (empty otherwise).",
    )

    class Meta:
        ref_name = "Error"


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            _bound_whole_number(parameter)
        responses = operation["responses"]
        for status in self.error_statuses(operation):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        error = self.resolve_serializer(ErrorSerializer(), "response").ref
        for status, response in responses.items():
            if int(status) >= 400 and "content" not in response:
                response["content"] = {"application/json": {"schema": error}}
        return operation

    def error_statuses(self, operation: dict) -> list[int]:
        """The errors that the API's own machinery may answer to this operation."""
        public = {} in operation.get("security", [{}])
        statuses = [400]  # a malformed parameter, or a value the server cannot store
        if self.view.get_authenticators():
            statuses.append(401)  # a wrong token, even where no token is needed
        if not (public and self.method in SAFE_METHODS):
            statuses.append(403)
        if "{" in self.path:
            statuses.append(404)
        if "requestBody" in operation:
            statuses.append(413)
        if getattr(self.view, "throttle_classes", None):
            statuses.append(429)
        statuses.append(503)
        return statuses

    def get_auth(self) -> list[dict]:
        auths = super().get_auth()
        if {} not in auths and self.anonymous_allowed():
            auths.append({})
        return auths

    def anonymous_allowed(self) -> bool:
        """Whether the view's permissions let a caller with no credentials in."""
        http_request = HttpRequest()
        http_request.method = self.method
        request = Request(http_request)
        request.user = AnonymousUser()
        try:
            return all(
                permission.has_permission(request, self.view)
                for permission in self.view.get_permissions()
            )
        except Exception:  # a permission that needs more of a request: not public
            return False

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict:
        schema = super()._map_basic_serializer(serializer, direction)
        if getattr(serializer, "rejects_unknown_keys", False):
            schema["additionalProperties"] = False
        return schema

    def get_serializer_name(self, serializer: serializers.Serializer, direction: str) -> str:
        qualname = type(serializer).__qualname__
        if "." in qualname:  # nested in its view: OrderListApi.InputSerializer
            return qualname.replace("Api.", ".").replace(".", "").removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False):  # type: ignore[no-untyped-def]
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            fewest = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if fewest:
                schema["minItems"] = fewest
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema


def _bound_whole_number(parameter: dict) -> None:
    """A whole-number query parameter is read within 64 bits (project.filters)."""
    schema = parameter.get("schema", {})
    if parameter.get("in") == "query" and schema.get("type") == "integer":
        schema.setdefault("minimum", INT64_MIN)
        schema.setdefault("maximum", INT64_MAX)


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings the field accepts: no sign when it must not be negative."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole = f"\\d{{1,{field.max_whole_digits}}}" if field.max_whole_digits else "0"
    return f"^{sign}{whole}(?:\\.\\d{{1,{field.decimal_places}}})?$"
