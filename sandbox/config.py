"""The sandbox's settings, read from the environment once at start-up."""

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8700"
# The app's own fallback when DJANGO_SECRET_KEY is unset (DEBUG only): both sides derive the
# callback secret from the same key, as project/settings.py does.
DEVELOPMENT_SECRET_KEY = "insecure-development-key-only-for-the-embedded-default"


def webhook_secret(env: dict[str, str] | os._Environ) -> str:
    """The shared callback secret: PAYMENTS_WEBHOOK_SECRET, else derived like the app's."""
    if env.get("PAYMENTS_WEBHOOK_SECRET"):
        return env["PAYMENTS_WEBHOOK_SECRET"]
    key = env.get("DJANGO_SECRET_KEY") or DEVELOPMENT_SECRET_KEY
    return hashlib.sha256(f"payments-webhook:{key}".encode()).hexdigest()


@dataclass(frozen=True)
class Config:
    url: str
    db_path: Path
    # Where the asynchronous payment's callback goes ("" sends none), after how long, and
    # the secret both sides sign it with.
    callback_url: str
    callback_delay: float
    webhook_secret: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 8700


def from_env(environ: dict[str, str] | None = None) -> Config:
    """The settings from ``environ`` (the process environment by default)."""
    env = os.environ if environ is None else environ
    var_dir = Path(env.get("VAR_DIR", "var"))
    return Config(
        url=env.get("SANDBOX_URL", DEFAULT_URL).rstrip("/"),
        db_path=Path(env.get("SANDBOX_DB_PATH") or var_dir / "sandbox.sqlite3"),
        callback_url=env.get(
            "SANDBOX_CALLBACK_URL", "http://127.0.0.1:8000/api/payments/callback/"
        ),
        callback_delay=float(env.get("SANDBOX_CALLBACK_DELAY_SECONDS", "1")),
        webhook_secret=webhook_secret(env),
    )
