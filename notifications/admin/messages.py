"""Messages sent to customers, as a read-only log for support and operators.

The order a notification is about shows as its id: this app sits below ``orders`` and
never imports it. The orders app registers a subclass of ``NotificationAdmin`` in its
place that links the id to the order (see ``orders.admin``).
"""

from django.contrib import admin
from django.utils.html import format_html

from events.admin import EMPTY, ReadOnlyAdmin, admin_url, change_link
from events.models import Event

from ..models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "channel", "kind", "subject", "order", "read_at"]
    list_filter = ["channel", "kind", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["subject", "user__username", "user__email", "order_id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    fieldsets = [
        (None, {"fields": ["user_link", "channel", "kind", "order", "event"]}),
        ("Message", {"fields": ["subject", "body"]}),
        ("Timestamps", {"fields": ["created_at", "read_at"]}),
    ]

    @admin.display(description="user")
    def user_link(self, obj: Notification) -> str:
        return change_link(obj.user)

    @admin.display(description="order", ordering="order_id")
    def order(self, obj: Notification) -> str:
        return EMPTY if obj.order_id is None else str(obj.order_id)

    @admin.display(description="event")
    def event(self, obj: Notification) -> str:
        if obj.event_id is None:
            return EMPTY
        return format_html(
            '<a href="{}">{}</a>', admin_url(Event, "change", obj.event_id), obj.event_id
        )
