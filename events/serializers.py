"""Read serializers of the engine's records, reused by the domain apps' APIs."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import selectors, types
from .envelope import Envelope
from .models import DeadLetter, Event, StepRun, WorkflowRun


class EnvelopeSerializer(serializers.Serializer):
    """An event as its envelope, upcast to the latest version of its type."""

    id = serializers.UUIDField()
    type = serializers.CharField()
    version = serializers.IntegerField()
    aggregate_type = serializers.CharField()
    aggregate_id = serializers.CharField()
    sequence = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    correlation_id = serializers.UUIDField()
    causation_id = serializers.UUIDField(allow_null=True)
    payload = serializers.JSONField()

    def to_representation(self, instance: Event) -> dict:
        return super().to_representation(Envelope.from_event(instance))


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    aggregate_type = serializers.CharField()
    description = serializers.CharField()
    schema = serializers.JSONField()
    latest = serializers.SerializerMethodField()

    def get_latest(self, obj: types.EventType) -> bool:
        return types.get(obj.name).version == obj.version


class StepRunSerializer(serializers.ModelSerializer):
    duration_ms = serializers.SerializerMethodField()

    class Meta:
        model = StepRun
        fields = [
            "name",
            "task_name",
            "stage",
            "status",
            "attempts",
            "task_id",
            "started_at",
            "finished_at",
            "duration_ms",
            "compensated_at",
            "result",
            "error",
        ]

    def get_duration_ms(self, obj: StepRun) -> int | None:
        return int(obj.duration.total_seconds() * 1000) if obj.duration else None


class CompensationSummarySerializer(serializers.Serializer):
    undone = serializers.ListField(child=serializers.CharField())
    not_undone = serializers.ListField(child=serializers.CharField())


class WorkflowRunSerializer(serializers.ModelSerializer):
    steps = StepRunSerializer(many=True, read_only=True)
    compensation = serializers.SerializerMethodField(
        help_text="Steps undone so far, and steps still in effect and not undone."
    )

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflow",
            "subject_type",
            "subject_id",
            "status",
            "failure_reason",
            "error",
            "compensation_error",
            "compensation_attempts",
            "compensation",
            "correlation_id",
            "started_at",
            "finished_at",
            "steps",
        ]

    @extend_schema_field(CompensationSummarySerializer)
    def get_compensation(self, obj: WorkflowRun) -> dict[str, list[str]]:
        return selectors.workflow_compensation_summary(obj)


class DeadLetterSerializer(serializers.ModelSerializer):
    event = EnvelopeSerializer(source="delivery.event", read_only=True)
    subscriber = serializers.CharField(source="delivery.subscriber", read_only=True)
    attempts = serializers.IntegerField(source="delivery.attempts", read_only=True)

    class Meta:
        model = DeadLetter
        fields = [
            "id",
            "status",
            "subscriber",
            "attempts",
            "error",
            "traceback",
            "created_at",
            "resolved_at",
            "resolved_by",
            "event",
        ]
