"""Webhooks for operators: subscriptions (test, enable), deliveries with attempts (redeliver).

Subscriptions are configuration: staff add and change them here, through the same
services as the API (the SSRF guard included). The secret is shown once, when a
subscription is added. Deliveries and attempts are written by the services only.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from events import types
from events.admin import (
    EMPTY,
    ReadOnlyAdmin,
    ReadOnlyInline,
    act_on_each,
    change_link,
    changelist_link,
    pre,
)
from project.errors import ApplicationError

from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from ..services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_enable,
    webhook_subscription_update,
    webhook_test_send,
)
from ..services.webhooks import EDITABLE, webhook_url_errors

SECRET_SHOWN_ONCE = "Signing secret of {sub}: {secret} (copy it now: it is not shown again)."


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.",
    )

    class Meta:
        model = WebhookSubscription
        fields = list(EDITABLE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = sorted({event_type.name for event_type in types.catalog()})
        self.fields["event_types"].choices = [(name, name) for name in names]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        errors = webhook_url_errors(url)
        if errors:
            raise forms.ValidationError(errors)
        return url


class FailingFilter(admin.SimpleListFilter):
    title = "failing"
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Failing"), ("no", "Not failing")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(failing_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(failing_since__isnull=True)
        return queryset


class DisabledFilter(admin.SimpleListFilter):
    title = "disabled"
    parameter_name = "disabled"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", "Disabled"), ("no", "Active")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(is_active=self.value() == "no")
        return queryset


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = [
        "id",
        "url",
        "description",
        "is_active",
        "ordered",
        "consecutive_failures",
        "failing_since",
        "disabled_at",
    ]
    list_filter = [FailingFilter, DisabledFilter, "ordered", "created_at"]
    search_fields = ["url", "description"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "consecutive_failures",
        "failing_since",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "deliveries",
    ]
    fieldsets = [
        (None, {"fields": ["url", "description", "event_types", "ordered", "is_active"]}),
        ("Health", {"fields": ["consecutive_failures", "failing_since", "disabled_at"]}),
        (None, {"fields": ["disabled_reason", "created_at", "deliveries"]}),
    ]
    actions = ["send_test", "enable"]

    @admin.display(description="deliveries")
    def deliveries(self, obj: WebhookSubscription) -> str:
        if obj.pk is None:
            return EMPTY
        return changelist_link(WebhookDelivery, "deliveries", subscription__id__exact=obj.pk)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in EDITABLE if name in form.cleaned_data}
        if change:
            webhook_subscription_update(
                subscription=WebhookSubscription.objects.get(pk=obj.pk),
                by=request.user.get_username(),
                **{name: data[name] for name in form.changed_data if name in data},
            )
            return
        active = data.pop("is_active", True)
        created = webhook_subscription_create(**data)
        if not active:
            webhook_subscription_update(
                subscription=created, by=request.user.get_username(), is_active=False
            )
        obj.pk, obj.secret = created.pk, created.secret
        self.message_user(
            request, SECRET_SHOWN_ONCE.format(sub=created, secret=created.secret), messages.WARNING
        )

    @admin.action(
        description="Send a test event to the selected subscriptions", permissions=["change"]
    )
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda sub: webhook_test_send(
                subscription=sub, requested_by=request.user.get_username()
            ),
            refused=ApplicationError,
            done="Sent a test event to {} subscription(s).",
            why=lambda sub, exc: f"{sub}: {exc}",
        )

    @admin.action(description="Enable the selected subscriptions", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda sub: webhook_subscription_enable(subscription=sub),
            refused=ApplicationError,
            done="Enabled {} subscription(s).",
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["number", "started_at", "duration", "status_code", "error", "response"]
    show_change_link = False

    @admin.display(description="duration")
    def duration(self, obj: WebhookAttempt) -> str:
        return EMPTY if obj.duration_ms is None else f"{obj.duration_ms} ms"

    @admin.display(description="response")
    def response(self, obj: WebhookAttempt) -> str:
        if not obj.response_excerpt:
            return EMPTY
        return format_html(
            "<details><summary>show</summary>{}</details>", pre(obj.response_excerpt)
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subscription",
        "event_type",
        "webhook_id",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "updated_at",
    ]
    list_filter = ["status", "subscription", "event__type", "created_at"]
    search_fields = ["event__id", "=event__aggregate_id", "last_error", "subscription__url"]
    date_hierarchy = "created_at"
    list_select_related = ["event", "subscription"]
    fieldsets = [
        (None, {"fields": ["subscription_link", "event_link", "webhook_id", "status"]}),
        ("Attempts", {"fields": ["attempts", "next_attempt_at", "last_status_code"]}),
        ("Last error", {"fields": ["last_error"]}),
        ("Timestamps", {"fields": ["created_at", "updated_at", "delivered_at"]}),
    ]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="webhook-id")
    def webhook_id(self, obj: WebhookDelivery) -> str:
        return str(obj.event_id)

    @admin.display(description="subscription")
    def subscription_link(self, obj: WebhookDelivery) -> str:
        return change_link(obj.subscription)

    @admin.display(description="event")
    def event_link(self, obj: WebhookDelivery) -> str:
        return change_link(obj.event)

    @admin.action(description="Redeliver the selected deliveries", permissions=["operate"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        act_on_each(
            self,
            request,
            queryset,
            lambda delivery: webhook_delivery_redeliver(delivery=delivery),
            refused=ApplicationError,
            done="Redelivering {} delivery(ies).",
            why=lambda delivery, exc: f"delivery {delivery.pk}: {exc}",
        )
