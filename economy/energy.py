"""Energy: grid connections for built capacity (docs/ODD.md §7.2). GPUs refitted into a powered shell are
connected when installed, without a new connection.

Each quarter the grid can connect ``energy.grid_gw_per_quarter x grid multiplier + carry`` GW. Built cohorts
waiting for power are connected oldest first (by ready quarter, then id), a whole cohort at a time, while the
budget is positive; the last one may overdraw it, and the overdraft delays the next quarter's connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def energise(model: CreditLoopModel) -> None:
    """Connect ready capacity to the grid, oldest first, within this quarter's GW of connections."""
    cap, q = model.ledger.capacity, model.quarter
    ready = cap.view("active") & ~cap.view("energised") & (cap.view("ready_q") <= q)
    # GPUs installed in a powered shell the owner already has need no new grid connection
    model.ledger.energise(np.flatnonzero(ready & cap.view("refit")))
    waiting = np.flatnonzero(ready & ~cap.view("refit"))
    budget = model.market.grid_budget()
    if waiting.size == 0:
        model.market.grid_credit = 0.0
        return
    order = waiting[np.lexsort((waiting, cap.ready_q[waiting]))]
    # budget left before each cohort, subtracted one cohort at a time; connect until it is used up
    left = np.subtract.accumulate(np.concatenate(([budget], cap.gw[order])))
    used_up = np.flatnonzero(left[:-1] <= 0)
    k = int(used_up[0]) if used_up.size else order.size
    model.ledger.energise(order[:k])
    budget = left[k] if k else budget
    model.market.grid_credit = min(budget, 0.0)  # overdrawn connections delay the next quarter's
