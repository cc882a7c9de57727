"""Downloads: the run's series and events (CSV, parquet) and its settings as a scenario TOML.

The tables have the same columns as ``run.py simulate`` writes (``model.parquet``, ``events.parquet``): a twin
run adds the counterfactual's rows with ``circular = False``. The TOML is what ``run.py simulate
--scenario-file`` reads; the seed is not part of a scenario file, so it goes into the description.
"""

from __future__ import annotations

import io

import pandas as pd

from economy.runner import model_frame
from params.loader import scenario_toml
from visualization.live import LiveRun


def _models(run: LiveRun):
    return [m for m in (run.main, run.twin) if m is not None]


def series_frame(run: LiveRun) -> pd.DataFrame:
    """The quarterly model series of the run (and its twin), one row per model and quarter."""
    with run.lock:
        frames = [model_frame(m) for m in _models(run)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def events_frame(run: LiveRun) -> pd.DataFrame:
    """The event logs of the run (and its twin), oldest first."""
    with run.lock:
        frames = []
        for m in _models(run):
            ev = m.events.frame()
            ev.insert(0, "circular", m.p.circular.circular_financing)
            ev.insert(0, "seed", m.seed)
            ev.insert(0, "scenario", m.scenario_name)
            frames.append(ev)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    df.to_parquet(out, index=False)
    return out.getvalue()


def settings_name(run: LiveRun) -> str:
    """The scenario's name, or ``<name>_custom`` when the settings differ from the preset."""
    cfg = run.config
    return f"{cfg.scenario}_custom" if cfg.modified else cfg.scenario


def settings_toml(run: LiveRun) -> str:
    """The run's settings as a scenario file for ``run.py simulate --scenario-file`` (seed in the description)."""
    cfg = run.config
    name = settings_name(run)
    base = cfg.description.strip()
    note = f"Saved from the creditloop UI (seed {cfg.seed}; run it with --seed {cfg.seed})."
    description = (
        f"{base} {note}".strip() if name == cfg.scenario else f"{note} Based on '{cfg.scenario}': {base}"
    )
    return scenario_toml(name, description, cfg.params)


def file_stem(run: LiveRun) -> str:
    return f"creditloop_{settings_name(run)}_seed{run.config.seed}"
