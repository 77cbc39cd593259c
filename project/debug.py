"""Django's debug page for staff only, even with ``DJANGO_DEBUG`` on.

With ``DEBUG`` on, Django answers an unhandled exception with its technical page: the
traceback, local variables and settings. ``make run`` turns ``DEBUG`` on, so without this
anyone who made a request fail would be shown them. Every such page is made by the
exception reporter named in ``DEFAULT_EXCEPTION_REPORTER``; this one shows it to a
signed-in staff user (and in the email to the admins) and a plain "Server error" page to
everyone else. The exception is logged either way.
"""

from typing import Any

from django.views.debug import ExceptionReporter

PLAIN_ERROR = "Server error: the request could not be handled."
PLAIN_ERROR_HTML = (
    "<!doctype html><html lang='en'><head><title>Server error</title></head>"
    f"<body><h1>Server error (500)</h1><p>{PLAIN_ERROR}</p></body></html>"
)


class StaffOnlyExceptionReporter(ExceptionReporter):
    """The technical 500 page for staff; a plain one for anyone else."""

    def shows_details(self) -> bool:
        if self.is_email:
            return True
        try:
            user: Any = getattr(self.request, "user", None)
            return bool(user is not None and user.is_active and user.is_staff)
        except Exception:  # the user could not be loaded (the database is down, say)
            return False

    def get_traceback_html(self) -> str:
        return super().get_traceback_html() if self.shows_details() else PLAIN_ERROR_HTML

    def get_traceback_text(self) -> str:
        return super().get_traceback_text() if self.shows_details() else PLAIN_ERROR
