"""``python -m sandbox``: serve the sandbox on SANDBOX_URL (default http://127.0.0.1:8700)."""

import logging
import os

import uvicorn

from .app import create_app
from .config import from_env


def main() -> None:
    config = from_env()
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("sandbox").info(
        "Sandbox on %s, ledger %s, callbacks to %s",
        config.url,
        config.db_path,
        config.callback_url or "(none)",
    )
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="warning")


if __name__ == "__main__":
    main()
