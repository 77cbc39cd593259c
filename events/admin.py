"""The operations console of the engine: events, outbox, deliveries and workflow runs.

Engine records are written by services only, so every admin here is view-only; what an
operator may do (publish, replay, discard, retry) is an action that calls a service and
needs the model's change permission. The helpers at the top are shared with the domain
apps' admins.
"""

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from .admin_graph import workflow_run_svg
from .conf import events_settings
from .models import (
    AggregateStream,
    DeadLetter,
    Delivery,
    DeliveryAttempt,
    Event,
    OutboxEvent,
    StepRun,
    WorkflowRun,
)
from .services import dead_letter_discard, dead_letter_replay, outbox_publish
from .services.dead_letters import DeadLetterNotOpen
from .workflows import CancelRefused, workflow_cancel, workflow_retry
from .workflows.engine import WorkflowNotRetryable

# --- Helpers --------------------------------------------------------------------------

# Shown for "nothing here": read-only fields would print a bare None as "None".
EMPTY = "-"


def pretty_json(value: Any) -> str:
    """A JSON value, indented, in a <pre> block (escaped)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="margin:0; white-space:pre-wrap">{}</pre>', text)


def pre(text: str) -> str:
    """Multi-line text such as a traceback, kept as it is."""
    if not text:
        return EMPTY
    return format_html('<pre style="margin:0; white-space:pre-wrap">{}</pre>', text)


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def change_link(obj: Model | None, text: Any = None) -> str:
    """A link to the object's admin page."""
    if obj is None:
        return EMPTY
    return format_html('<a href="{}">{}</a>', admin_url(obj, "change", obj.pk), text or obj)


def changelist_link(model: type[Model], text: Any, **filters: Any) -> str:
    """A link to the model's changelist, filtered by field lookups."""
    url = admin_url(model, "changelist")
    if filters:
        url = f"{url}?{urlencode({k: str(v) for k, v in filters.items()})}"
    return format_html('<a href="{}">{}</a>', url, text)


def task_link(task_id: str) -> str:
    """A Celery task id, linked to Flower when ``EVENTS["FLOWER_TASK_URL"]`` is set."""
    if not task_id:
        return EMPTY
    template = events_settings.FLOWER_TASK_URL
    if not template:
        return task_id
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        template.format(task_id=task_id),
        task_id,
    )


def subject_link(subject_type: str, subject_id: str) -> str:
    """``type:id``, linked to the admin page of an installed model named ``subject_type``."""
    label = f"{subject_type}:{subject_id}"
    for model in apps.get_models():
        if model._meta.model_name != subject_type.lower():
            continue
        try:
            url = admin_url(model, "change", subject_id)
        except NoReverseMatch:  # that model is not in the admin
            continue
        return format_html('<a href="{}">{}</a>', url, label)
    return label


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return EMPTY
    seconds = value.total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: viewable, never added, changed or deleted here.

    Actions that call services use ``permissions=["operate"]``: the model's change
    permission, which the admin itself no longer grants.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        # Everything shown is read-only, computed fields included: name them once.
        if self.fieldsets:
            return flatten_fieldsets(self.fieldsets)
        return self.fields or self.readonly_fields

    def has_operate_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        return self.fields or self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def report(admin_: admin.ModelAdmin, request: HttpRequest, done: str, failures: list[str]) -> None:
    """One success message and one error message listing what could not be done."""
    if done:
        admin_.message_user(request, done, messages.SUCCESS)
    if failures:
        admin_.message_user(
            request, f"{len(failures)} failed: " + "; ".join(failures), messages.ERROR
        )


# --- Event store ----------------------------------------------------------------------


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
        report(
            self,
            request,
            f"Published {published} of {len(pending)} pending row(s).",
            [] if published == len(pending) else ["the broker refused some rows; see last error"],
        )


# --- Deliveries -----------------------------------------------------------------------


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
        done, failures = 0, []
        for dead_letter in queryset:
            try:
                service(dead_letter=dead_letter, by=request.user.get_username())
            except DeadLetterNotOpen as exc:
                failures.append(str(exc))
            else:
                done += 1
        report(self, request, f"{verb} {done} dead letter(s)." if done else "", failures)

    @admin.action(description="Replay selected dead letters", permissions=["operate"])
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._resolve(request, queryset, dead_letter_replay, "Replayed")

    @admin.action(description="Discard selected dead letters", permissions=["operate"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        self._resolve(request, queryset, dead_letter_discard, "Discarded")


# --- Workflows ------------------------------------------------------------------------


class StepRunInline(ReadOnlyInline):
    model = StepRun
    fields = ["name", "stage", "status", "attempts", "duration", "task", "error", "compensated_at"]

    @admin.display(description="duration")
    def duration(self, obj: StepRun) -> str:
        return format_duration(obj.duration)

    @admin.display(description="task")
    def task(self, obj: StepRun) -> str:
        return task_link(obj.task_id)


@admin.register(WorkflowRun)
class WorkflowRunAdmin(ReadOnlyAdmin):
    list_display = [
        "workflow",
        "subject",
        "status",
        "progress",
        "failure_reason",
        "started_at",
        "duration",
    ]
    list_filter = ["status", "workflow", "subject_type", "failure_reason", "started_at"]
    search_fields = ["id", "=subject_id", "correlation_id", "error"]
    date_hierarchy = "started_at"
    fieldsets = [
        ("Steps", {"fields": ["graph"]}),
        (None, {"fields": ["id", "workflow", "subject", "status", "progress"]}),
        ("Failure", {"fields": ["error", "failure_reason"]}),
        ("Input and lineage", {"fields": ["input_pretty", "correlation"]}),
        ("Timing", {"fields": ["started_at", "finished_at", "duration"]}),
    ]
    inlines = [StepRunInline]
    actions = ["retry", "cancel"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                steps_total=Count("steps"),
                steps_done=Count("steps", filter=Q(steps__status=StepRun.Status.SUCCEEDED)),
            )
        )

    @admin.display(description="subject", ordering="subject_id")
    def subject(self, obj: WorkflowRun) -> str:
        return subject_link(obj.subject_type, obj.subject_id)

    @admin.display(description="steps succeeded")
    def progress(self, obj: WorkflowRun) -> str:
        return changelist_link(StepRun, f"{obj.steps_done} / {obj.steps_total}", run=obj.pk)

    @admin.display(description="duration")
    def duration(self, obj: WorkflowRun) -> str:
        return format_duration(obj.duration)

    @admin.display(description="graph")
    def graph(self, obj: WorkflowRun) -> str:
        return workflow_run_svg(obj, list(obj.steps.all()))

    @admin.display(description="correlation")
    def correlation(self, obj: WorkflowRun) -> str:
        if not obj.correlation_id:
            return EMPTY
        return changelist_link(
            Event, f"events of {obj.correlation_id}", correlation_id=obj.correlation_id
        )

    @admin.display(description="input")
    def input_pretty(self, obj: WorkflowRun) -> str:
        return pretty_json(obj.input)

    @admin.action(description="Retry failed runs from their failed step", permissions=["operate"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        done, failures = 0, []
        for run in queryset:
            try:
                workflow_retry(run=run)
            except WorkflowNotRetryable as exc:
                failures.append(f"{run}: {exc}")
            else:
                done += 1
        report(self, request, f"Retried {done} run(s)." if done else "", failures)

    @admin.action(
        description="Cancel selected runs (compensate their completed steps)",
        permissions=["operate"],
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        done, failures = 0, []
        for run in queryset:
            if run.is_terminal:
                failures.append(f"{run}: already {run.status}")
                continue
            try:
                workflow_cancel(run=run, reason="operator_request")
            except CancelRefused as exc:
                failures.append(f"{run}: {exc}")
            else:
                done += 1
        report(self, request, f"Cancelled {done} run(s)." if done else "", failures)


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "run_link",
        "stage",
        "status",
        "attempts",
        "duration",
        "task",
        "started_at",
    ]
    list_filter = ["status", "run__workflow", "name", "started_at"]
    search_fields = ["=name", "=task_id", "=run__subject_id", "run__id", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["run"]
    fieldsets = [
        (
            None,
            {"fields": ["run_link", "name", "task_name", "stage", "status", "attempts", "task"]},
        ),
        ("Result", {"fields": ["result_pretty"]}),
        ("Failure", {"fields": ["error", "traceback_pre"]}),
        ("Timing", {"fields": ["started_at", "finished_at", "duration", "compensated_at"]}),
    ]

    @admin.display(description="run", ordering="run__started_at")
    def run_link(self, obj: StepRun) -> str:
        return change_link(obj.run)

    @admin.display(description="duration")
    def duration(self, obj: StepRun) -> str:
        return format_duration(obj.duration)

    @admin.display(description="task")
    def task(self, obj: StepRun) -> str:
        return task_link(obj.task_id)

    @admin.display(description="result")
    def result_pretty(self, obj: StepRun) -> str:
        return EMPTY if obj.result is None else pretty_json(obj.result)

    @admin.display(description="traceback")
    def traceback_pre(self, obj: StepRun) -> str:
        return pre(obj.traceback)
