"""Workflow runs and their steps: graph, timeline, retry and cancel."""

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from .. import selectors
from ..models import (
    Event,
    StepRun,
    WorkflowRun,
)
from ..workflows import (
    CancelRefused,
    RunEnded,
    WorkflowNotRetryable,
    workflow_cancel,
    workflow_retry,
    workflow_retry_compensation,
)
from .base import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    change_link,
    changelist_link,
    format_duration,
    pre,
    pretty_json,
    subject_link,
    task_link,
)
from .graph import workflow_run_svg


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
        (
            "Compensation",
            {
                "fields": [
                    "compensation_error",
                    "compensation_attempts",
                    "steps_undone",
                    "steps_not_undone",
                ]
            },
        ),
        ("Input and lineage", {"fields": ["input_pretty", "correlation"]}),
        ("Timing", {"fields": ["started_at", "finished_at", "duration"]}),
    ]
    inlines = [StepRunInline]
    actions = ["retry", "retry_compensation", "cancel"]

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

    @admin.display(description="steps undone")
    def steps_undone(self, obj: WorkflowRun) -> str:
        return ", ".join(selectors.workflow_compensation_summary(obj)["undone"]) or EMPTY

    @admin.display(description="steps still in effect (not undone)")
    def steps_not_undone(self, obj: WorkflowRun) -> str:
        return ", ".join(selectors.workflow_compensation_summary(obj)["not_undone"]) or EMPTY

    @admin.display(description="input")
    def input_pretty(self, obj: WorkflowRun) -> str:
        return pretty_json(obj.input)

    @admin.action(description="Retry failed runs from their failed step", permissions=["operate"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda run: workflow_retry(run=run),
            refused=WorkflowNotRetryable,
            done="Retried {} run(s).",
        )

    @admin.action(
        description="Retry the compensation of runs whose compensation failed",
        permissions=["operate"],
    )
    def retry_compensation(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda run: workflow_retry_compensation(run=run),
            refused=WorkflowNotRetryable,
            done="Compensating {} run(s) again.",
        )

    @admin.action(
        description="Cancel selected runs (compensate their completed steps)",
        permissions=["operate"],
    )
    def cancel(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda run: workflow_cancel(run=run, reason=WorkflowRun.Reason.OPERATOR_REQUEST),
            refused=CancelRefused,
            done="Cancelled {} run(s).",
            why=_why_not_cancelled,
        )


def _why_not_cancelled(run: WorkflowRun, exc: Exception) -> str:
    return f"{run}: already {exc.status}" if isinstance(exc, RunEnded) else f"{run}: {exc}"


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
