"""Chat turns over HTTP: soni's server next to bare LangGraph behind FastAPI (``make bench``).

The benchmark itself is ``_http_bench.py``. This file only puts this folder after
the standard library on the import path first: a script named http.py would
otherwise shadow the standard library's ``http`` package that httpx imports.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE] + [str(HERE)]

import asyncio  # noqa: E402

from _http_bench import main  # noqa: E402

asyncio.run(main())
