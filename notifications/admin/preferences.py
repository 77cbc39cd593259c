"""Every user's notification preferences: what staff see and may change for a customer.

A row exists only once a channel was switched; without one, the channel is on.
"""

from django.contrib import admin

from ..models import NotificationPreference


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "channel", "enabled", "updated_at"]
    list_filter = ["enabled", "channel", "kind"]
    search_fields = ["user__username", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["updated_at"]
