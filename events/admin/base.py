"""Shared by every admin of the engine and of the domain apps: read-only bases and links.

Engine records are written by services only, so every admin here is view-only; what an
operator may do (publish, replay, discard, retry) is an action that calls a service and
needs the model's change permission.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_permission_codename
from django.db.models import Model
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from ..conf import events_settings

T = TypeVar("T")

# Shown for "nothing here": read-only fields would print a bare None as "None".
EMPTY = "-"


def pretty_json(value: Any) -> str:
    """A JSON value, indented, in a <pre> block (escaped)."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="margin:0; white-space:pre-wrap">{}</pre>', text)


def pre(text: str) -> str:
    """Multi-line text such as a traceback, kept as it is."""
    if not text:
        return EMPTY
    return format_html('<pre style="margin:0; white-space:pre-wrap">{}</pre>', text)


def admin_url(model: type[Model] | Model, view: str, *args: Any) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def change_link(obj: Model | None, text: Any = None) -> str:
    """A link to the object's admin page."""
    if obj is None:
        return EMPTY
    return format_html('<a href="{}">{}</a>', admin_url(obj, "change", obj.pk), text or obj)


def changelist_link(model: type[Model], text: Any, **filters: Any) -> str:
    """A link to the model's changelist, filtered by field lookups."""
    url = admin_url(model, "changelist")
    if filters:
        url = f"{url}?{urlencode({k: str(v) for k, v in filters.items()})}"
    return format_html('<a href="{}">{}</a>', url, text)


def task_link(task_id: str) -> str:
    """A Celery task id, linked to Flower when ``EVENTS["FLOWER_TASK_URL"]`` is set."""
    if not task_id:
        return EMPTY
    template = events_settings.FLOWER_TASK_URL
    if not template:
        return task_id
    return format_html(
        '<a href="{}" target="_blank" rel="noopener">{}</a>',
        template.format(task_id=task_id),
        task_id,
    )


def subject_link(subject_type: str, subject_id: str) -> str:
    """``type:id``, linked to the admin page of an installed model named ``subject_type``."""
    label = f"{subject_type}:{subject_id}"
    for model in apps.get_models():
        if model._meta.model_name != subject_type.lower():
            continue
        try:
            url = admin_url(model, "change", subject_id)
        except NoReverseMatch:  # that model is not in the admin
            continue
        return format_html('<a href="{}">{}</a>', url, label)
    return label


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return EMPTY
    seconds = value.total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: viewable, never added, changed or deleted here.

    Actions that call services use ``permissions=["operate"]``: the model's change
    permission, which the admin itself no longer grants.
    """

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        # Everything shown is read-only, computed fields included: name them once.
        if self.fieldsets:
            return flatten_fieldsets(self.fieldsets)
        return self.fields or self.readonly_fields

    def has_operate_permission(self, request: HttpRequest) -> bool:
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        return self.fields or self.readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def act_on_each(
    admin_: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[T],
    act: Callable[[T], object],
    *,
    refused: type[Exception],
    done: str,
    why: Callable[[T, Exception], str] = lambda obj, exc: f"{obj}: {exc}",
) -> None:
    """Apply ``act`` to each object: one message for those done, one for those refused.

    ``refused`` is the domain saying no, not a crash: it is reported and the other
    objects still go. ``done`` is formatted with the number done.
    """
    count, failures = 0, []
    for obj in objects:
        try:
            act(obj)
        except refused as exc:
            failures.append(why(obj, exc))
        else:
            count += 1
    if count:
        admin_.message_user(request, done.format(count), messages.SUCCESS)
    if failures:
        admin_.message_user(
            request, f"{len(failures)} failed: " + "; ".join(failures), messages.ERROR
        )
