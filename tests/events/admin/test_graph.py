"""The SVG graph and timeline of a workflow run on its admin page."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from events.admin.graph import COLORS, workflow_run_svg
from events.models import StepRun, WorkflowRun
from tests.factories import make_user

SVG = "{http://www.w3.org/2000/svg}"
FLOWER = {**settings.EVENTS, "FLOWER_TASK_URL": "http://flower.test/task/{task_id}"}
NO_FLOWER = {**settings.EVENTS, "FLOWER_TASK_URL": ""}
S = StepRun.Status


@pytest.fixture
def run(db):  # type: ignore[no-untyped-def]
    """A failed fulfillment: stock reserved then compensated, payment failed, the rest idle."""
    run = WorkflowRun.objects.create(
        workflow="orders.fulfillment",
        subject_type="order",
        subject_id="1",
        status=WorkflowRun.Status.FAILED,
    )
    t0 = run.started_at
    steps = [
        ("reserve_stock", 0, S.COMPENSATED, 1, "task-reserve", 0.01, 0.05),
        ("charge_payment", 1, S.FAILED, 3, "task-charge", 0.06, 1.6),
        ("create_shipment", 2, S.SKIPPED, 0, "", None, None),
        ("<script>alert(1)</script>", 2, S.PENDING, 0, "", None, None),
        ("complete_order", 3, S.PENDING, 0, "", None, None),
    ]
    for name, stage, status, attempts, task_id, start, end in steps:
        StepRun.objects.create(
            run=run,
            name=name,
            task_name=f"orders.{name}",
            stage=stage,
            status=status,
            attempts=attempts,
            task_id=task_id,
            started_at=None if start is None else t0 + timedelta(seconds=start),
            finished_at=None if end is None else t0 + timedelta(seconds=end),
        )
    run.finished_at = t0 + timedelta(seconds=2)
    run.save()
    return run


def render(run: WorkflowRun) -> str:
    return str(workflow_run_svg(run, list(run.steps.all()), now=timezone.now()))


def boxes(markup: str) -> dict[str, ET.Element]:
    """Step name -> its box group; parsing also proves the markup is well-formed."""
    root = ET.fromstring(markup)
    return {g.get("data-step"): g for g in root.iter(f"{SVG}g") if g.get("class") == "step"}


@override_settings(EVENTS=NO_FLOWER)
def test_the_graph_has_a_box_per_step_coloured_by_its_status(run):
    found = boxes(render(run))

    assert set(found) == set(run.steps.values_list("name", flat=True))
    for step in run.steps.all():
        rect = found[step.name].find(f"{SVG}rect")
        assert rect.get("fill") == COLORS[step.status][0], step.name
    assert COLORS[S.SUCCEEDED][0] != COLORS[S.FAILED][0] != COLORS[S.COMPENSATED][0]


@override_settings(EVENTS=NO_FLOWER)
def test_the_graph_lays_stages_left_to_right_and_stacks_parallel_steps(run):
    found = boxes(render(run))
    position = {
        name: (int(g.find(f"{SVG}rect").get("x")), int(g.find(f"{SVG}rect").get("y")))
        for name, g in found.items()
    }
    reserve, charge = position["reserve_stock"], position["charge_payment"]
    shipment, script, complete = (
        position["create_shipment"],
        position["<script>alert(1)</script>"],
        position["complete_order"],
    )

    assert reserve[0] < charge[0] < shipment[0] == script[0] < complete[0]
    assert shipment[1] != script[1]


@override_settings(EVENTS=NO_FLOWER)
def test_boxes_show_status_attempts_and_duration(run):
    markup = render(run)

    assert "3 attempts · 1.5 s" in markup
    assert "1 attempt · 40 ms" in markup
    assert "compensated" in markup and "failed" in markup


@override_settings(EVENTS=FLOWER)
def test_a_step_with_a_task_id_links_to_flower(run):
    markup = render(run)

    assert '<a href="http://flower.test/task/task-charge"' in markup
    assert '<a href="http://flower.test/task/task-reserve"' in markup
    assert markup.count("http://flower.test/task/") == 2  # idle steps have no task


@override_settings(EVENTS=NO_FLOWER)
def test_without_a_flower_url_nothing_is_linked(run):
    assert "<a " not in render(run)


@override_settings(EVENTS=NO_FLOWER)
def test_a_step_name_is_escaped(run):
    markup = render(run)

    assert "<script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


@override_settings(EVENTS=NO_FLOWER)
def test_the_timeline_has_a_bar_per_started_step(run):
    root = ET.fromstring(render(run))
    timeline = next(s for s in root.iter(f"{SVG}svg") if s.get("class") == "workflow-timeline")
    bars = timeline.findall(f"{SVG}rect")

    assert [bar.get("fill") for bar in bars] == [COLORS[S.COMPENSATED][1], COLORS[S.FAILED][1]]
    reserve, charge = bars
    assert int(reserve.get("x")) < int(charge.get("x"))
    assert int(reserve.get("width")) < int(charge.get("width"))


def test_a_run_without_steps_says_so(db):
    run = WorkflowRun.objects.create(workflow="orders.fulfillment", subject_type="order")

    assert "no steps" in str(workflow_run_svg(run, []))


@override_settings(EVENTS=FLOWER)
def test_the_run_admin_page_shows_the_graph(run):
    make_user("admin", staff=True)
    client = Client()
    assert client.login(username="admin", password="admin")

    response = client.get(reverse("admin:events_workflowrun_change", args=[run.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<svg" in content
    assert content.index('class="workflow-graph"') < content.index("Failure")
    assert "http://flower.test/task/task-charge" in content
    assert "<script>alert(1)</script>" not in content
