"""Time one stressed population quarter in process (the benchmark's ``stressed_model``), for before/after pairs:

    python benchmarks/time_stressed_quarter.py 1000 10000

prints one line per size: firms, then the seconds of the one ``model.step()`` (the build is not timed)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the tree it runs in (a second worktree with PYTHONPATH pointing at it)

from benchmarks.test_performance import stressed_model

if __name__ == "__main__":
    for agents in map(int, sys.argv[1:] or ["1000"]):
        model = stressed_model(agents)
        start = time.perf_counter()
        model.step()
        print(f"{agents} {time.perf_counter() - start:.3f}", flush=True)
