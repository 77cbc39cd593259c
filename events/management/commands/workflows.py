"""Look at and steer workflow runs from the command line."""

import uuid

from django.core.management.base import BaseCommand, CommandError, CommandParser

from events import selectors
from events.models import WorkflowRun
from events.workflows import (
    CancelRefused,
    RunEnded,
    WorkflowNotRetryable,
    workflow_cancel,
    workflow_retry,
    workflow_retry_compensation,
)


class Command(BaseCommand):
    help = (
        "List workflow runs, show one, retry a failed one from its failed step, cancel one, "
        "or retry the compensation of one whose compensation failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="{list,show,retry,cancel,retry-compensation}"
        )
        listing = sub.add_parser("list", help="Recent runs.")
        listing.add_argument("--status", choices=WorkflowRun.Status.values)
        listing.add_argument("--workflow")
        listing.add_argument("--limit", type=int, default=50)
        for name, text in (
            ("show", "One run and its steps."),
            ("retry", "Retry a failed run."),
            ("cancel", "Cancel a running run (compensates its completed steps)."),
            ("retry-compensation", "Compensate again a run whose compensation failed."),
        ):
            sub.add_parser(name, help=text).add_argument("run_id", help="Run id (UUID).")

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "list":
            runs = selectors.workflow_run_list()
            if options["status"]:
                runs = runs.filter(status=options["status"])
            if options["workflow"]:
                runs = runs.filter(workflow=options["workflow"])
            for run in runs[: options["limit"]]:
                self.stdout.write(
                    f"{run.pk}  {run.started_at:%Y-%m-%d %H:%M:%S}  {run.workflow}  "
                    f"{run.subject_type}:{run.subject_id}  {run.status}  {run.failure_reason}"
                )
            return
        run = self._get(str(options["run_id"]))
        if options["action"] == "retry":
            try:
                run = workflow_retry(run=run)
            except WorkflowNotRetryable as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Run {run.pk} is running again from its failed step.")
        elif options["action"] == "cancel":
            try:
                run = workflow_cancel(run=run, reason=WorkflowRun.Reason.OPERATOR_REQUEST)
            except RunEnded as exc:
                raise CommandError(f"Run {run.pk} is already {exc.status}.") from exc
            except CancelRefused as exc:
                raise CommandError(str(exc)) from exc
            run = self._get(str(run.pk))
            self.stdout.write(f"Run {run.pk} is cancelled; its completed steps are being undone.")
        elif options["action"] == "retry-compensation":
            try:
                run = workflow_retry_compensation(run=run)
            except WorkflowNotRetryable as exc:
                raise CommandError(str(exc)) from exc
            run = self._get(str(run.pk))
            self.stdout.write(f"Run {run.pk} is compensating again.")
        self._show(run)

    def _get(self, run_id: str) -> WorkflowRun:
        try:
            return selectors.workflow_run_list().get(pk=uuid.UUID(run_id))
        except (ValueError, WorkflowRun.DoesNotExist) as exc:
            raise CommandError(f"No workflow run with id {run_id!r}.") from exc

    def _show(self, run: WorkflowRun) -> None:
        self.stdout.write(
            f"{run.workflow} {run.subject_type}:{run.subject_id}  {run.status}  {run.error}"
        )
        if run.compensation_error:
            self.stdout.write(f"  compensation: {run.compensation_error}")
        for step in run.steps.all():
            duration = f"{step.duration.total_seconds():.3f}s" if step.duration else "-"
            self.stdout.write(
                f"  [{step.stage}] {step.name:<20} {step.status:<12} attempts={step.attempts} "
                f"{duration:>9}  {step.error.splitlines()[0] if step.error else ''}"
            )
