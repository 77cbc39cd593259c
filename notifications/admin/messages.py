"""Messages sent to people, as a read-only log for support and operators.

An email shows what became of it (status, tries, the error of each) and can be sent again
when it failed. The order a notification is about shows as its id: this app sits below
``orders`` and never imports it. The orders app registers a subclass of
``NotificationAdmin`` in its place that links the id to the order (see ``orders.admin``).
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from events.admin import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    admin_url,
    change_link,
    format_duration,
    pre,
    task_link,
)
from events.models import Event
from project.errors import Conflict

from ..models import EmailAttempt, Notification
from ..services import email_resend


class EmailAttemptInline(ReadOnlyInline):
    model = EmailAttempt
    fields = ["number", "started_at", "took", "outcome", "task", "error"]
    show_change_link = False
    verbose_name = "try"
    verbose_name_plural = "tries"

    @admin.display(description="duration")
    def took(self, obj: EmailAttempt) -> str:
        return format_duration(obj.duration)

    @admin.display(description="task")
    def task(self, obj: EmailAttempt) -> str:
        return task_link(obj.task_id)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "user",
        "channel",
        "kind",
        "subject",
        "order",
        "status",
        "attempts",
        "read_at",
    ]
    list_filter = [
        "status",
        "channel",
        "kind",
        ("read_at", admin.EmptyFieldListFilter),
        "created_at",
    ]
    search_fields = ["subject", "user__username", "user__email", "to_address", "order_id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    fieldsets = [
        (None, {"fields": ["user_link", "channel", "kind", "order", "event"]}),
        ("Message", {"fields": ["subject", "body", "html_body"]}),
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "to_address",
                    "attempts",
                    "last_error_pre",
                    "sent_at",
                    "next_attempt_at",
                    "task",
                ]
            },
        ),
        ("Timestamps", {"fields": ["created_at", "read_at"]}),
    ]
    inlines = [EmailAttemptInline]
    actions = ["send_again"]

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

    @admin.display(description="last error")
    def last_error_pre(self, obj: Notification) -> str:
        return pre(obj.last_error)

    @admin.display(description="task")
    def task(self, obj: Notification) -> str:
        return task_link(obj.task_id) if obj.task_id else EMPTY

    @admin.action(description="Send selected failed emails again", permissions=["operate"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda notification: email_resend(notification=notification),
            refused=Conflict,
            done="Queued {} email(s) to be sent again.",
        )
