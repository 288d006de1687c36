"""The banking example as an ASGI application, for running under uvicorn yourself.

    uvicorn --app-dir examples/deploy app:app --host 127.0.0.1 --port 8000 --workers 1

Settings come from the ``SONI_*`` variables; the database from the bot's
``settings.persistence`` unless ``BANKING_DB`` names another file.
"""

import os
from pathlib import Path

from soni.server import ServerSettings, create_app

BOT = Path(__file__).resolve().parent.parent / "banking"

# SQLite: one process per database; several workers need PostgreSQL (docs/deployment.md).
app = create_app(BOT, ServerSettings.from_env(), db=os.environ.get("BANKING_DB"))
