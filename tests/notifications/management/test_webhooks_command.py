"""``manage.py webhooks``: list deliveries, redeliver them."""

import pytest
from django.core.management import CommandError, call_command

from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.services.webhook_sending import DELIVER_WEBHOOK
from tests.helpers.webhook_rows import emit, fan_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery() -> WebhookDelivery:
    WebhookSubscription.objects.create(url="https://shop.example.com/hooks")
    [delivery] = fan_out(emit())
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="given_up", last_error="boom")
    return delivery


def test_list_shows_each_delivery_with_its_webhook_id(delivery, capsys):
    call_command("webhooks", "list", "--status", "given_up")

    out = capsys.readouterr().out
    assert str(delivery.event_id) in out
    assert "given_up" in out and "boom" in out
    assert out.strip().endswith("1 delivery(ies).")


def test_redeliver_queues_the_delivery_again_after_commit(
    delivery, capsys, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks", "redeliver", str(delivery.pk))

    assert f"webhook-id {delivery.event_id}" in capsys.readouterr().out
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert broker.of(DELIVER_WEBHOOK) == [{"delivery_id": str(delivery.pk)}]


def test_redeliver_reports_what_it_could_not_do(delivery):
    with pytest.raises(CommandError, match="No webhook delivery with id 999"):
        call_command("webhooks", "redeliver", "999")
    call_command("webhooks", "redeliver", str(delivery.pk))
    with pytest.raises(CommandError, match="1 of 1 could not be redelivered"):
        call_command("webhooks", "redeliver", str(delivery.pk))
