from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("events", api.EventViewSet, basename="event")
router.register("workflows", api.WorkflowRunViewSet, basename="workflow-run")
router.register("dead-letters", api.DeadLetterViewSet, basename="dead-letter")

urlpatterns = [
    path("event-types/", api.EventTypeListApi.as_view(), name="event-type-list"),
    path("bridges/", api.BridgeListApi.as_view(), name="bridge-list"),
    *router.urls,
]
