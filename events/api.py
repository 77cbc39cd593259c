"""Staff API of the engine: the event log, the type catalog, workflow runs, dead letters."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, types
from .bridges.selectors import bridge_states
from .models import Event, WorkflowRun
from .serializers import (
    DeadLetterSerializer,
    EnvelopeSerializer,
    EventTypeSerializer,
    WorkflowRunSerializer,
)
from .services import dead_letter_discard, dead_letter_replay
from .services.dead_letters import DeadLetterNotOpen
from .workflows import (
    CancelRefused,
    WorkflowNotRetryable,
    workflow_cancel,
    workflow_retry,
    workflow_retry_compensation,
)

NOT_NOW = OpenApiResponse(description="The record's state does not allow this now.")


class StateConflict(APIException):
    status_code = 409
    default_code = "conflict"


class EventFilter(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["type", "aggregate_type", "aggregate_id", "correlation_id"]


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only event log."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = EnvelopeSerializer
    filterset_class = EventFilter
    queryset = Event.objects.order_by("-occurred_at", "-sequence")


class EventTypeListApi(APIView):
    """Every declared event type and version, with its JSON schema."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses=EventTypeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(EventTypeSerializer(types.catalog(), many=True).data)


class WorkflowRunFilter(django_filters.FilterSet):
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = WorkflowRun
        fields = ["status", "workflow", "subject_type", "subject_id"]


class WorkflowRunViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = WorkflowRunSerializer
    filterset_class = WorkflowRunFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.workflow_run_list()

    @extend_schema(request=None, responses={200: WorkflowRunSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """Run a failed run again from its failed step."""
        try:
            run = workflow_retry(run=self.get_object())
        except WorkflowNotRetryable as exc:
            raise StateConflict(str(exc)) from exc
        return Response(WorkflowRunSerializer(selectors.workflow_run_list().get(pk=run.pk)).data)

    @extend_schema(request=None, responses={200: WorkflowRunSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"], url_path="retry-compensation")
    def retry_compensation(self, request: Request, pk: str | None = None) -> Response:
        """Compensate again a run whose compensation failed for good (409 otherwise)."""
        try:
            run = workflow_retry_compensation(run=self.get_object())
        except WorkflowNotRetryable as exc:
            raise StateConflict(str(exc)) from exc
        return Response(WorkflowRunSerializer(selectors.workflow_run_list().get(pk=run.pk)).data)

    @extend_schema(request=None, responses={200: WorkflowRunSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Stop a running run; its completed steps are compensated in reverse order."""
        try:
            run = workflow_cancel(run=self.get_object(), reason=WorkflowRun.Reason.OPERATOR_REQUEST)
        except CancelRefused as exc:
            raise StateConflict(str(exc)) from exc
        return Response(WorkflowRunSerializer(selectors.workflow_run_list().get(pk=run.pk)).data)


class DeadLetterViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = DeadLetterSerializer
    filterset_fields = ["status", "delivery__subscriber"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.dead_letter_list()

    def _resolve(self, request: Request, service) -> Response:  # type: ignore[no-untyped-def]
        try:
            dead_letter = service(dead_letter=self.get_object(), by=request.user.get_username())
        except DeadLetterNotOpen as exc:
            raise StateConflict(str(exc)) from exc
        return Response(
            DeadLetterSerializer(selectors.dead_letter_list().get(pk=dead_letter.pk)).data
        )

    @extend_schema(request=None, responses={200: DeadLetterSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        """Deliver the event to its subscriber again."""
        return self._resolve(request, dead_letter_replay)

    @extend_schema(request=None, responses={200: DeadLetterSerializer, 409: NOT_NOW})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Give up on the delivery for good."""
        return self._resolve(request, dead_letter_discard)


class BridgeListApi(APIView):
    """Every outbound bridge: paused or not, and its lag (events behind the store's head)."""

    permission_classes = [permissions.IsAdminUser]

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        transport = serializers.CharField()
        paused = serializers.BooleanField()
        position = serializers.IntegerField(help_text="Last outbox id acknowledged.")
        lag = serializers.IntegerField(help_text="Events carried but not yet acknowledged.")
        published = serializers.IntegerField()
        last_published_at = serializers.DateTimeField(allow_null=True)
        last_error = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(bridge_states(), many=True).data)


__all__ = [
    "BridgeListApi",
    "DeadLetterViewSet",
    "EventTypeListApi",
    "EventViewSet",
    "WorkflowRunViewSet",
]
