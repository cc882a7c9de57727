"""The layering the code keeps: imports run only downward (accounting <- agents <- economy), and every shock kind the
schema declares has exactly one handler in the economy."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from economy.shocks import HANDLERS
from params.schema import Shock

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"accounting": ("agents", "economy", "visualization", "sweep", "cli"), "agents": ("economy",)}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_no_import_runs_up_from_the_accounting_layer_or_the_agents():
    bad = []
    for layer, above in FORBIDDEN.items():
        for path in sorted((ROOT / layer).glob("*.py")):
            bad += [f"{path.relative_to(ROOT)} imports {name}" for name in _imports(path) & set(above)]
    assert not bad, bad


def test_every_shock_kind_has_one_handler():
    assert set(HANDLERS) == set(get_args(Shock.model_fields["kind"].annotation))
