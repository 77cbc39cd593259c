"""Deliveries to subscribers, their attempts, and dead letters to replay or discard."""

from collections.abc import Callable

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from ..models import (
    DeadLetter,
    Delivery,
    DeliveryAttempt,
)
from ..services import dead_letter_discard, dead_letter_replay
from ..services.dead_letters import DeadLetterNotOpen
from .base import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    change_link,
    changelist_link,
    pre,
    pretty_json,
    task_link,
)


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "duration", "succeeded", "task", "error", "traceback_pre"]
    show_change_link = False

    @admin.display(description="duration")
    def duration(self, obj: DeliveryAttempt) -> str:
        return f"{obj.duration_ms} ms"

    @admin.display(description="task")
    def task(self, obj: DeliveryAttempt) -> str:
        return task_link(obj.task_id)

    @admin.display(description="traceback")
    def traceback_pre(self, obj: DeliveryAttempt) -> str:
        if not obj.traceback:
            return EMPTY
        return format_html("<details><summary>show</summary>{}</details>", pre(obj.traceback))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event",
        "event_type",
        "subscriber",
        "status",
        "attempts",
        "updated_at",
        "last_error",
    ]
    list_filter = ["status", "subscriber", "event__type", "updated_at"]
    search_fields = ["=subscriber", "event__id", "=event__aggregate_id", "last_error"]
    date_hierarchy = "created_at"
    list_select_related = ["event"]
    fieldsets = [
        (None, {"fields": ["event_link", "subscriber", "status", "attempts", "dead_letters"]}),
        ("Last error", {"fields": ["last_error"]}),
        ("Timestamps", {"fields": ["created_at", "updated_at", "succeeded_at"]}),
    ]
    inlines = [DeliveryAttemptInline]

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description="event")
    def event_link(self, obj: Delivery) -> str:
        return change_link(obj.event)

    @admin.display(description="dead letters")
    def dead_letters(self, obj: Delivery) -> str:
        return changelist_link(DeadLetter, "dead letters of this delivery", delivery=obj.pk)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subscriber",
        "event_type",
        "status",
        "short_error",
        "created_at",
        "resolved_by",
    ]
    list_filter = ["status", "delivery__subscriber", "delivery__event__type", "created_at"]
    search_fields = ["error", "=delivery__subscriber", "delivery__event__id", "=resolved_by"]
    date_hierarchy = "created_at"
    list_select_related = ["delivery__event"]
    fieldsets = [
        (None, {"fields": ["delivery_link", "event_link", "status", "created_at"]}),
        ("Failure", {"fields": ["error", "traceback_pre"]}),
        ("Event payload", {"fields": ["payload"]}),
        ("Resolution", {"fields": ["resolved_at", "resolved_by"]}),
    ]
    actions = ["replay", "discard"]

    @admin.display(description="subscriber", ordering="delivery__subscriber")
    def subscriber(self, obj: DeadLetter) -> str:
        return obj.delivery.subscriber

    @admin.display(description="event type", ordering="delivery__event__type")
    def event_type(self, obj: DeadLetter) -> str:
        return obj.delivery.event.type

    @admin.display(description="error")
    def short_error(self, obj: DeadLetter) -> str:
        return obj.error if len(obj.error) <= 80 else f"{obj.error[:79]}…"

    @admin.display(description="delivery")
    def delivery_link(self, obj: DeadLetter) -> str:
        return change_link(obj.delivery)

    @admin.display(description="event")
    def event_link(self, obj: DeadLetter) -> str:
        return change_link(obj.delivery.event)

    @admin.display(description="traceback")
    def traceback_pre(self, obj: DeadLetter) -> str:
        return pre(obj.traceback)

    @admin.display(description="payload")
    def payload(self, obj: DeadLetter) -> str:
        return pretty_json(obj.delivery.event.payload)

    def _resolve(
        self,
        request: HttpRequest,
        queryset: QuerySet[DeadLetter],
        service: Callable[..., DeadLetter],
        verb: str,
    ) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda dead_letter: service(dead_letter=dead_letter, by=request.user.get_username()),
            refused=DeadLetterNotOpen,
            done=f"{verb} {{}} dead letter(s).",
            why=lambda dead_letter, exc: str(exc),
        )

    @admin.action(description="Replay selected dead letters", permissions=["operate"])
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._resolve(request, queryset, dead_letter_replay, "Replayed")

    @admin.action(description="Discard selected dead letters", permissions=["operate"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._resolve(request, queryset, dead_letter_discard, "Discarded")
