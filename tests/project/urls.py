"""The project's URLs, and views that fail, for tests of what a failure answers."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from project.urls import urlpatterns as project_urlpatterns


class SecretError(Exception):
    pass


def crash(request: HttpRequest) -> HttpResponse:
    settings_value = "shown-only-to-staff"  # a local variable the debug page would show
    raise SecretError(settings_value)


urlpatterns = [
    path("api/crash/", crash),
    path("crash/", crash),
    *project_urlpatterns,
]
