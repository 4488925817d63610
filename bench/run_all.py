"""`make bench`: every benchmark of the project, one after the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("tick.py", "email_delivery.py", "year.py"):
    print(f"=== bench/{script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
