"""A workflow run drawn as server-side SVG: a stage graph and a timeline, for the admin.

Pure rendering: a run and its steps in, escaped markup out. No JavaScript, nothing
fetched from elsewhere. Stages run left to right; the steps of one stage (a parallel
group) are stacked; each box links to the step's task in Flower when that is configured.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ..conf import events_settings
from ..models import StepRun, WorkflowRun
from .base import format_duration

S = StepRun.Status

# Status -> (fill, stroke): a light fill behind dark text, a strong stroke and bar colour.
GREEN, RED, AMBER = ("#d7f0dc", "#2e7d32"), ("#fbd9d9", "#c62828"), ("#fdebc4", "#b26a00")
PURPLE, GREY = ("#e8dcf6", "#6a3fa0"), ("#e8e8e8", "#808080")
COLORS: dict[str, tuple[str, str]] = {
    S.SUCCEEDED: GREEN,
    S.FAILED: RED,
    S.RUNNING: AMBER,
    S.QUEUED: AMBER,
    S.RETRYING: AMBER,
    S.COMPENSATED: PURPLE,
    S.SKIPPED: GREY,
    S.PENDING: GREY,
}

# Four stages fit the admin's field column (about 710 px) on a 1280 px screen unscaled.
BOX_W, BOX_H, COL_GAP, ROW_GAP, PAD = 148, 60, 32, 12, 8
NAME_CHARS = 18  # what fits in a box at 12px; the full name is in the tooltip
LABEL_W, ROW_H, AXIS_H, TAIL_W = 130, 20, 22, 60
TEXT = "#1f1f1f"


def _join(parts: Iterable[str]) -> SafeString:
    # Every part comes from format_html, so it is already escaped.
    return mark_safe("".join(parts))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _task_url(step: StepRun) -> str:
    template = events_settings.FLOWER_TASK_URL
    return template.format(task_id=step.task_id) if template and step.task_id else ""


def _tooltip(step: StepRun) -> str:
    lines = [f"{step.name}: {step.status}", f"task: {step.task_name}"]
    if step.task_id:
        lines.append(f"task id: {step.task_id}")
    if step.error:
        lines.append(f"error: {_short(step.error, 300)}")
    return "\n".join(lines)


def _box(step: StepRun, x: int, y: int) -> SafeString:
    fill, stroke = COLORS.get(step.status, GREY)
    summary = f"{step.attempts} attempt{'' if step.attempts == 1 else 's'}"
    if step.duration is not None:
        summary = f"{summary} · {format_duration(step.duration)}"
    box = format_html(
        '<g class="step" data-step="{name}" data-status="{status}"><title>{tip}</title>'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}"'
        ' stroke-width="2"/>'
        '<text x="{tx}" y="{y1}" font-size="12" font-weight="bold" fill="{text}">{label}</text>'
        '<text x="{tx}" y="{y2}" font-size="11" font-weight="bold" fill="{stroke}">{status}</text>'
        '<text x="{tx}" y="{y3}" font-size="11" fill="{text}">{summary}</text></g>',
        name=step.name,
        status=step.status,
        tip=_tooltip(step),
        x=x,
        y=y,
        w=BOX_W,
        h=BOX_H,
        fill=fill,
        stroke=stroke,
        text=TEXT,
        tx=x + 8,
        y1=y + 19,
        y2=y + 35,
        y3=y + 51,
        label=_short(step.name, NAME_CHARS),
        summary=summary,
    )
    url = _task_url(step)
    if not url:
        return box
    return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, box)


def _arrow(x1: int, y1: int, x2: int, y2: int) -> SafeString:
    mid = (x1 + x2) // 2
    return format_html(
        '<path d="M{} {} C{} {} {} {} {} {}" fill="none" stroke="currentColor"'
        ' stroke-opacity="0.55" stroke-width="1.5" marker-end="url(#wf-arrow)"/>',
        x1,
        y1,
        mid,
        y1,
        mid,
        y2,
        x2 - 2,
        y2,
    )


def graph_svg(steps: Sequence[StepRun]) -> SafeString:
    """One box per step, a column per stage, arrows from every step to the next stage's."""
    columns: dict[int, list[StepRun]] = {}
    for step in sorted(steps, key=lambda s: (s.stage, s.pk or 0)):
        columns.setdefault(step.stage, []).append(step)
    rows = max(len(column) for column in columns.values())
    height = 2 * PAD + rows * BOX_H + (rows - 1) * ROW_GAP
    width = 2 * PAD + len(columns) * (BOX_W + COL_GAP) - COL_GAP
    boxes, arrows, previous = [], [], []
    for index, column in enumerate(columns.values()):
        x = PAD + index * (BOX_W + COL_GAP)
        top = (height - len(column) * BOX_H - (len(column) - 1) * ROW_GAP) // 2
        anchors = []
        for row, step in enumerate(column):
            y = top + row * (BOX_H + ROW_GAP)
            boxes.append(_box(step, x, y))
            anchors.append((x, y + BOX_H // 2))
        arrows += [_arrow(x1 + BOX_W, y1, x2, y2) for x1, y1 in previous for x2, y2 in anchors]
        previous = anchors
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-graph" role="img"'
        ' aria-label="Workflow steps" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
        ' style="max-width:100%;height:auto;display:block">'
        '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
        ' markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z"'
        ' fill="currentColor" fill-opacity="0.7"/></marker></defs>{arrows}{boxes}</svg>',
        w=width,
        h=height,
        arrows=_join(arrows),
        boxes=_join(boxes),
    )


@dataclass(frozen=True)
class _TimeScale:
    """Maps moments of a run onto the timeline's x axis."""

    t0: datetime
    span: float  # seconds shown, at least a millisecond
    plot_w: int

    def x_at(self, moment: datetime) -> int:
        return LABEL_W + round(max((moment - self.t0).total_seconds(), 0) / self.span * self.plot_w)


def timeline_svg(
    run: WorkflowRun, steps: Sequence[StepRun], *, width: int, now: datetime
) -> SafeString:
    """A bar per step from its start to its end, relative to the start of the run."""
    ends = [s.finished_at or now for s in steps if s.started_at]
    end = run.finished_at or max(ends, default=now)
    scale = _TimeScale(
        t0=run.started_at,
        span=max((max([end, *ends]) - run.started_at).total_seconds(), 0.001),
        plot_w=width - LABEL_W - TAIL_W,
    )
    height = AXIS_H + len(steps) * ROW_H + 4
    parts = [_timeline_tick(scale, tick, height) for tick in range(5)]
    for row, step in enumerate(sorted(steps, key=lambda s: (s.stage, s.pk or 0))):
        parts.extend(_timeline_row(scale, step, AXIS_H + row * ROW_H, now))
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="workflow-timeline" role="img"'
        ' aria-label="Workflow timeline" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
        ' style="max-width:100%;height:auto;display:block;margin-top:12px">{parts}</svg>',
        w=width,
        h=height,
        parts=_join(parts),
    )


def _timeline_tick(scale: _TimeScale, tick: int, height: int) -> SafeString:
    """One of the five grid lines, labelled with the time since the run started."""
    x = LABEL_W + round(scale.plot_w * tick / 4)
    return format_html(
        '<line x1="{x}" y1="{top}" x2="{x}" y2="{h}" stroke="currentColor"'
        ' stroke-opacity="0.15"/><text x="{x}" y="14" font-size="11" fill="currentColor"'
        ' fill-opacity="0.7" text-anchor="{anchor}">+{label}</text>',
        x=x,
        top=AXIS_H - 4,
        h=height,
        anchor="start" if tick == 0 else "middle",
        label=format_duration(timedelta(seconds=scale.span * tick / 4)),
    )


def _timeline_row(scale: _TimeScale, step: StepRun, y: int, now: datetime) -> list[SafeString]:
    """The step's name, then its bar and duration (or why it has none)."""
    label = format_html(
        '<text x="{}" y="{}" font-size="12" fill="currentColor" text-anchor="end">{}</text>',
        LABEL_W - 8,
        y + 14,
        _short(step.name, 18),
    )
    if not step.started_at:
        return [
            label,
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="currentColor" fill-opacity="0.5"'
                ' font-style="italic">not started ({})</text>',
                LABEL_W + 4,
                y + 14,
                step.status,
            ),
        ]
    x1, x2 = scale.x_at(step.started_at), scale.x_at(step.finished_at or now)
    bar = format_html(
        '<rect x="{}" y="{}" width="{}" height="12" rx="2" fill="{}"{}><title>{}</title>'
        '</rect><text x="{}" y="{}" font-size="11" fill="currentColor">{}</text>',
        x1,
        y + 4,
        max(x2 - x1, 2),
        COLORS.get(step.status, GREY)[1],
        mark_safe(' fill-opacity="0.55"') if not step.finished_at else "",
        _tooltip(step),
        max(x2, x1 + 2) + 6,
        y + 14,
        format_duration(step.duration) if step.finished_at else "running",
    )
    return [label, bar]


def workflow_run_svg(
    run: WorkflowRun, steps: Sequence[StepRun], *, now: datetime | None = None
) -> SafeString:
    """The graph of ``run`` and, below it, its timeline."""
    if not steps:
        return format_html("<p>{}</p>", "This run has no steps.")
    graph = graph_svg(steps)
    stages = len({s.stage for s in steps})
    width = max(2 * PAD + stages * (BOX_W + COL_GAP) - COL_GAP, 640)
    timeline = timeline_svg(run, steps, width=width, now=now or timezone.now())
    return format_html('<div class="workflow-run-svg">{}{}</div>', graph, timeline)
