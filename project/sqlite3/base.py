"""Django's SQLite backend, which makes the folder of its database file first.

The embedded default keeps its database under ``var/``, which a fresh checkout does not
have: whichever process connects first (``migrate``, a test run, a worker) makes it.
"""

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        database = str(conn_params["database"])
        if not self.creation.is_in_memory_db(database) and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
