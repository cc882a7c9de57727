"""Systemic importance: each firm's DebtRank on the ledger's exposures (docs/ODD.md §7.18), each quarter.

DebtRank (Battiston et al. 2012, :mod:`accounting.debtrank`) of firm j: the share of the agents' equity that the
other agents lose, round by round through their exposures, if j defaults. The exposure of creditor i to k is
what i would lose if k defaulted now:

* debt it holds on k (bonds, loans, SPV facilities, GPU loans, leases, claims) at carrying value (principal less
  its provision) and the value of its stakes in k and of what k owes it on warrants, protection and shorts;
* for a provider, its take-or-pay contracts with k: the claim it would have, the remaining minimum payments less
  what it could re-let the capacity for at today's price (less the specificity discount for a builder that built
  to order), undiscounted.

Only agents enter (the outside world's equity is not modelled); equity is book equity. When no agent has
positive equity, every DebtRank is 0 (there is no system equity left to lose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from accounting.contracts import IS_DEBT, IS_TWO_SIDED, Kind, Status
from accounting.debtrank import debtrank

if TYPE_CHECKING:
    from economy.model import CreditLoopModel


def exposures(model: CreditLoopModel) -> sp.csr_array:
    """The (n_parties × n_parties) exposure matrix, exposures[i, k] = what i loses if k defaults now."""
    c, m, n = model.ledger.contracts, model.market, model.ledger.n_parties
    live = c.view("status") == Status.ACTIVE
    kind = c.view("kind")
    creditor, debtor = c.view("creditor"), c.view("debtor")
    amount = np.zeros(c.n)
    debt = live & IS_DEBT[kind]
    amount[debt] = (c.view("principal") - c.view("allowance"))[debt]
    held = live & ((kind == Kind.EQUITY_STAKE) | IS_TWO_SIDED[kind])
    amount[held] = np.maximum(c.view("value")[held], 0.0)
    compute = np.flatnonzero(live & (kind == Kind.COMPUTE))
    if compute.size:
        builds = np.zeros(n, dtype=bool)
        for f in model.firms:
            builds[f.party] = getattr(f, "builds_to_order", False)
        discount = np.where(builds[creditor[compute]], model.p.deals.specificity_discount, 0.0)
        relet = m.compute_price / 4.0 * m.utilisation * (1.0 - discount)  # per GW-quarter
        price = c.price[compute]
        with np.errstate(invalid="ignore", divide="ignore"):
            lost_share = np.where(
                price > 0, np.clip(1.0 - relet / np.maximum(c.min_share[compute] * price, 1e-12), 0, 1), 0.0
            )
        amount[compute] = c.notional[compute] * c.min_share[compute] * lost_share
    world = model.ledger.is_world
    keep = (amount > 1e-12) & ~world[creditor] & ~world[debtor] & (creditor != debtor)
    return sp.csr_array((amount[keep], (creditor[keep], debtor[keep])), shape=(n, n))


SEED_CHUNK = 256  # DebtRank seeds run together (memory (SEED_CHUNK x agents) instead of (agents x agents))


def debtranks(model: CreditLoopModel) -> np.ndarray:
    """DebtRank of every party (NaN for the outside world), from the books as they stand."""
    n = model.ledger.n_parties
    out = np.full(n, np.nan)
    agents = np.flatnonzero(~model.ledger.is_world)
    if agents.size == 0:
        return out
    w = exposures(model)[agents][:, agents]
    equity = model.ledger.equity()[agents]
    if not (equity > 0).any():  # no agent has equity left to lose: nothing more can be lost
        out[agents] = 0.0
        return out
    # Every agent is a seed: all at once, the runs' buffers would be (agents x agents), 0.8 GB each at 10,000
    # firms. Seeds in chunks keep them to (SEED_CHUNK x agents), over one impact matrix; each run (row) is computed
    # on its own, so the numbers are the same. A small economy's W is dense (fewer array operations per round).
    out[agents] = debtrank(w if agents.size > 128 else w.toarray(), equity, chunk=SEED_CHUNK)
    return out
