from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.schemas import DefaultSchema
from rest_framework.settings import api_settings

from events.fields import StrictCharField

from . import ops


class TokenInputSerializer(AuthTokenSerializer):
    """A username and password, each a JSON string (DRF's own takes numbers too)."""

    username = StrictCharField(label="Username", max_length=150, write_only=True)
    password = StrictCharField(
        label="Password", max_length=4096, trim_whitespace=False, write_only=True
    )


class TokenApi(ObtainAuthToken):
    """Trade a username and password for the token to send as ``Authorization: Token``."""

    # JSON like every other operation (DRF's view also takes forms), documented by the
    # project's schema class.
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES
    schema = DefaultSchema()
    serializer_class = TokenInputSerializer


api_patterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("orders.urls")),
    path("", include("notifications.urls")),
    path("", include("events.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
]
