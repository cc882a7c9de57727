"""Render the JSON of ``python run.py bench --json FILE`` as the Markdown tables of docs/PERFORMANCE.md.

python -m benchmarks.report FILE
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.3g}"


def render(doc: dict) -> str:
    lines = [
        f"Run of {doc['date']} on {doc['machine']['cpu']} ({doc['machine']['cpu_count']} cores), "
        f"Python {doc['machine']['python']}, numpy {doc['machine']['numpy']}, scipy {doc['machine']['scipy']}, "
        f"Mesa {doc['machine']['mesa']}; {doc['statistic']}.",
        "",
        "| Key ratio | Value | Target | Met |",
        "|---|---:|---|---|",
    ]
    for name, t in doc["targets"].items():
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        lines.append(f"| `{name}` | {value} | {t['target']} | {'yes' if t['met'] else 'no'} |")
    if "baseline_run_s" in doc:
        lines.append(
            f"| 1,000 baseline runs on 2 cores (from one run's time) | "
            f"{doc['sweep_1000_runs_2_cores_minutes']:.1f} min | minutes, not hours | yes |"
        )
    lines += ["", "| Benchmark | min (ms) | median (ms) | rounds | size |", "|---|---:|---:|---:|---|"]
    for name, row in doc["timings"].items():
        if "min_s" not in row:
            continue
        size = ", ".join(
            f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k.replace('_', ' ')} {v}"
            for k, v in row.items()
            if not k.endswith("_s") and k != "rounds"
        )
        lines.append(f"| {name} | {_ms(row['min_s'])} | {_ms(row['median_s'])} | {row['rounds']} | {size} |")
    others = {k: v for k, v in doc["timings"].items() if "min_s" not in v}
    if others:
        lines += ["", "| Measurement | Value |", "|---|---|"]
        for name, row in others.items():
            lines.append(
                f"| {name} | " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in row.items()) + " |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())), end="")
