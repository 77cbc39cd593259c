"""Static files served by WhiteNoise, from a ``STATIC_ROOT`` that exists.

``collectstatic`` fills ``STATIC_ROOT`` in a production image. A process started before
it (a test run, a first start) finds the folder empty rather than missing, so WhiteNoise
serves nothing from it without warning that it is not there.
"""

from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        if settings.STATIC_ROOT:
            Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        super().__init__(get_response, settings)
