"""The watchdog: sending again what a lost message left standing.

Three things can stall when a message is lost (broker down at commit, a worker killed
on a broker that does not redeliver): a step, a run's compensation, and the undoing of a
step that finished after its run stopped. Each is found by its rows and sent again; a
duplicate message is harmless, since only one copy can take the row.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ... import dispatch
from ...conf import events_settings
from ...models import StepRun, WorkflowRun
from ..registry import get
from .progress import lock_run, outcome_unknown, queue_step

logger = logging.getLogger(__name__)

# What identifies one try of a step: if any of these changed, the step moved on.
_TRY_FIELDS = ("status", "attempts", "task_id", "queued_at", "retry_at")


def workflow_resume_stalled() -> int:
    """Send again the steps and compensations whose message was lost; return how many."""
    now = timezone.now()
    stall = timedelta(seconds=events_settings.WORKFLOW_STALL_SECONDS)
    return (
        _resume_stalled_steps(now, stall)
        + _resume_stalled_compensations(now - stall)
        + _resume_step_compensations(now - stall)
    )


def _resume_stalled_steps(now: datetime, stall: timedelta) -> int:
    """Queue again a step queued long ago whose send failed, one "running" far past its
    time limit (its worker died and the broker did not redeliver), or one whose retry is
    long overdue (the delayed message died with its worker)."""
    candidates = StepRun.objects.filter(
        run__status=WorkflowRun.Status.RUNNING,
        status__in=[StepRun.Status.QUEUED, StepRun.Status.RUNNING, StepRun.Status.RETRYING],
    )
    resumed = 0
    for step_run in candidates.select_related("run"):
        if not _stalled(step_run, now, stall):
            continue
        with transaction.atomic():
            run = lock_run(step_run.run_id)
            fresh = StepRun.objects.get(pk=step_run.pk)
            # Still exactly as it was read: no try started or retried it since.
            unchanged = all(getattr(fresh, name) == getattr(step_run, name) for name in _TRY_FIELDS)
            if run.status == WorkflowRun.Status.RUNNING and unchanged:
                logger.warning("Resuming stalled step %s of run %s", fresh.name, run.pk)
                queue_step(run, fresh)
                resumed += 1
    return resumed


def _stalled(step_run: StepRun, now: datetime, stall: timedelta) -> bool:
    if step_run.status == StepRun.Status.QUEUED:
        return step_run.queued_at is None or step_run.queued_at < now - stall
    if step_run.status == StepRun.Status.RETRYING:
        return step_run.retry_at is None or step_run.retry_at < now - stall
    spec = get(step_run.run.workflow).step(step_run.name)
    limit = timedelta(seconds=spec.time_limit) + stall
    return step_run.started_at is None or step_run.started_at < now - limit


def _resume_stalled_compensations(cutoff: datetime) -> int:
    """Send again the compensation of a run not tried since before ``cutoff``.

    Not forever: each try that fails counts, and the run ends ``compensation_failed``
    once its tries are spent.
    """
    stalled = WorkflowRun.objects.filter(
        status=WorkflowRun.Status.COMPENSATING, compensation_tried_at__lt=cutoff
    ).values_list("pk", flat=True)
    run_ids = [str(pk) for pk in stalled]
    for run_id in run_ids:
        logger.warning("Resuming the stalled compensation of run %s", run_id)
        dispatch.workflow_compensation(run_id)
    return len(run_ids)


def _resume_step_compensations(cutoff: datetime) -> int:
    """Send again, once per stall period, the undo of a step still in effect in a stopped run.

    Only a step that completed after its run stopped can be in that state. Not forever:
    each try that fails counts against the run, which ends ``compensation_failed`` (and
    out of this query) once its tries are spent.
    """
    in_effect = StepRun.objects.filter(
        Q(status=StepRun.Status.SUCCEEDED)
        | Q(status=StepRun.Status.FAILED, compensated_at__isnull=True),
        compensation_sent_at__lt=cutoff,
        run__status__in=[WorkflowRun.Status.CANCELLED, WorkflowRun.Status.FAILED],
    ).select_related("run")
    resent = 0
    for step_run in in_effect:
        spec = get(step_run.run.workflow).step(step_run.name)
        if spec.compensate is None or (
            step_run.status == StepRun.Status.FAILED and not outcome_unknown(step_run, spec)
        ):
            continue
        logger.warning("Resending the compensation of %s of run %s", step_run.name, step_run.run_id)
        with transaction.atomic():
            StepRun.objects.filter(pk=step_run.pk).update(compensation_sent_at=timezone.now())
            dispatch.step_compensation_on_commit(step_run.run_id, step_run.name)
        resent += 1
    return resent
