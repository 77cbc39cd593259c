"""Static files storage: hashed names from the manifest, plain names before collectstatic."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """A process started before ``collectstatic`` (a test run, a first start) still renders.

    Production images run ``collectstatic``, so there every name comes from the manifest.
    """

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected yet: serve the plain name
            return name
