"""Read models of the order domain, built from events and rebuildable from history.

``manage.py events rebuild orders.sales_by_day`` empties and refolds it.
"""

from decimal import Decimal

from django.db.models import F

from events.envelope import Envelope
from events.projections import projection

from .models import SalesDay


def _reset() -> None:
    SalesDay.objects.all().delete()


@projection("orders.sales_by_day", events=["order.fulfilled"], models=[SalesDay], reset=_reset)
def sales_by_day(event: Envelope) -> None:
    day = event.occurred_at.date()
    for line in event.payload["lines"]:
        row, _ = SalesDay.objects.get_or_create(day=day, sku=line["sku"])
        SalesDay.objects.filter(pk=row.pk).update(
            units=F("units") + line["quantity"],
            revenue=F("revenue") + Decimal(line["unit_price"]) * line["quantity"],
            orders=F("orders") + 1,
        )
