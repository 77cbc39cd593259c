"""The event store: events, aggregate streams and the outbox."""

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from ..models import (
    AggregateStream,
    Command,
    Delivery,
    Event,
    OutboxEvent,
)
from ..services import outbox_publish
from .base import EMPTY, ReadOnlyAdmin, admin_url, change_link, changelist_link, pretty_json


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Append-only: an event is looked at, never added, changed or deleted."""

    list_display = ["occurred_at", "type", "version", "aggregate", "sequence", "correlation"]
    list_filter = ["type", "aggregate_type", "version", "occurred_at"]
    search_fields = ["id", "=aggregate_id", "correlation_id", "^type"]
    date_hierarchy = "occurred_at"
    fieldsets = [
        (None, {"fields": ["id", "type", "version", "occurred_at"]}),
        (
            "Aggregate",
            {"fields": ["aggregate_type", "aggregate_id", "sequence", "aggregate"]},
        ),
        ("Lineage", {"fields": ["correlation", "causation", "caused"]}),
        ("Payload", {"fields": ["payload_pretty"]}),
        ("Delivery", {"fields": ["outbox_state", "deliveries"]}),
    ]

    @admin.display(description="aggregate", ordering="aggregate_id")
    def aggregate(self, obj: Event) -> str:
        return changelist_link(
            Event,
            f"{obj.aggregate_type}:{obj.aggregate_id}",
            aggregate_type=obj.aggregate_type,
            aggregate_id=obj.aggregate_id,
        )

    @admin.display(description="correlation")
    def correlation(self, obj: Event) -> str:
        return changelist_link(Event, obj.correlation_id, correlation_id=obj.correlation_id)

    @admin.display(description="caused by")
    def causation(self, obj: Event) -> str:
        if not obj.causation_id:
            return EMPTY
        return format_html(
            '<a href="{}">{}</a>', admin_url(Event, "change", obj.causation_id), obj.causation_id
        )

    @admin.display(description="events it caused")
    def caused(self, obj: Event) -> str:
        return changelist_link(Event, "events caused by this one", causation_id=obj.pk)

    @admin.display(description="payload")
    def payload_pretty(self, obj: Event) -> str:
        return pretty_json(obj.payload)

    @admin.display(description="outbox")
    def outbox_state(self, obj: Event) -> str:
        outbox = OutboxEvent.objects.filter(event=obj).first()
        if outbox is None:
            return EMPTY
        state = (
            f"published {outbox.published_at:%Y-%m-%d %H:%M:%S}"
            if outbox.published_at
            else "pending"
        )
        return change_link(outbox, f"{state}, {outbox.attempts} attempt(s)")

    @admin.display(description="deliveries")
    def deliveries(self, obj: Event) -> str:
        counts = dict(
            obj.deliveries.values("status").annotate(n=Count("id")).values_list("status", "n")
        )
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
        return changelist_link(Delivery, summary, event=obj.pk)


@admin.register(AggregateStream)
class AggregateStreamAdmin(ReadOnlyAdmin):
    list_display = ["aggregate_type", "aggregate_id", "last_sequence", "events"]
    list_filter = ["aggregate_type"]
    search_fields = ["=aggregate_id"]
    fields = ["aggregate_type", "aggregate_id", "last_sequence", "events"]

    @admin.display(description="events")
    def events(self, obj: AggregateStream) -> str:
        return changelist_link(
            Event, "events", aggregate_type=obj.aggregate_type, aggregate_id=obj.aggregate_id
        )


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["event", "event_type", "created_at", "published_at", "attempts", "last_error"]
    list_filter = [("published_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["event__id", "event__type", "last_error"]
    date_hierarchy = "created_at"
    list_select_related = ["event"]
    fields = ["event_link", "created_at", "published_at", "attempts", "last_error"]
    actions = ["publish"]

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj: OutboxEvent) -> str:
        return obj.event.type

    @admin.display(description="event")
    def event_link(self, obj: OutboxEvent) -> str:
        return change_link(obj.event)

    @admin.action(description="Publish selected pending rows now", permissions=["operate"])
    def publish(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        pending = list(queryset.pending().values_list("event_id", flat=True))
        published = outbox_publish(event_ids=pending, limit=max(len(pending), 1))
        if not pending:
            self.message_user(request, "None of the selected rows is pending.", messages.WARNING)
        if published:
            message = f"Published {published} of {len(pending)} pending row(s)."
            self.message_user(request, message, messages.SUCCESS)
        if unsent := len(pending) - published:
            message = f"{unsent} row(s) still pending: the broker refused them (see last error)."
            self.message_user(request, message, messages.ERROR)


@admin.register(Command)
class CommandAdmin(ReadOnlyAdmin):
    """Requests that emitted events: the roots of each flow's story."""

    list_display = ["received_at", "name", "id", "correlation"]
    search_fields = ["=id", "=correlation_id", "name"]
    date_hierarchy = "received_at"
    fields = ["id", "name", "received_at", "correlation", "caused"]

    @admin.display(description="correlation")
    def correlation(self, obj: Command) -> str:
        return changelist_link(Event, obj.correlation_id, correlation_id=obj.correlation_id)

    @admin.display(description="events it caused")
    def caused(self, obj: Command) -> str:
        return changelist_link(Event, "events caused by this request", causation_id=obj.pk)
