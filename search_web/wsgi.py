"""WSGI entry point for production servers: `gunicorn -w 4 'search_web.wsgi:app'`.

Settings come from the config file named by XXGK_CONFIG (or ./xxgk.toml) and XXGK_* variables. The
app is read-only and starts no scheduler, so any number of workers is safe.
"""

from __future__ import annotations

import os

from archive.settings import load_settings
from search_web import create_app

app = create_app(load_settings(os.environ.get("XXGK_CONFIG")))
