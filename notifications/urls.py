from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("notifications", api.NotificationViewSet, basename="notification")

urlpatterns = [
    path(
        "notification-preferences/",
        api.NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
