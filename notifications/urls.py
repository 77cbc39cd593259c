from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("webhooks", api.WebhookSubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", api.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = [
    path(
        "notification-preferences/",
        api.NotificationPreferencesApi.as_view(),
        name="notification-preferences",
    ),
    *router.urls,
]
