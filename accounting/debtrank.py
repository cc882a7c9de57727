"""DebtRank: the share of the system's economic value lost by the other firms when one firm is distressed.

Battiston, S., Puliga, M., Kaushik, R., Tasca, P. & Caldarelli, G. (2012). "DebtRank: Too Central to Fail?
Financial Networks, the FED and Systemic Risk". Scientific Reports 2, 541. doi:10.1038/srep00541

Notation
--------
``exposures[i, k]`` is what creditor ``i`` stands to lose if ``k`` defaults (its loans to, bonds of and
stakes in ``k``); ``equity[i]`` is ``i``'s capital E_i. The impact of ``k`` on ``i`` is

    W[k→i] = min(1, exposures[i, k] / E_i)                  for E_i > 0,

the fraction of ``i``'s equity that ``k``'s default wipes out. Each firm carries a distress h_i ∈ [0, 1]
(the fraction of its equity lost) and a state s_i ∈ {U(ndistressed), D(istressed), I(nactive)}. Seed j:

    t = 1:   h_j = shock, s_j = D;  h_i = 0, s_i = U for every other i
    h_i(t) = min(1, h_i(t−1) + Σ_{k : s_k(t−1) = D} W[k→i] h_k(t−1))
    s_i(t) = I           if s_i(t−1) = D
             D           if h_i(t) > 0 and s_i(t−1) = U
             s_i(t−1)    otherwise

and the dynamics stop at the first round T in which no firm is D. A firm therefore passes its distress on
exactly once, in the round after it first becomes distressed; impact that reaches it later (round a cycle,
or by a second path) still raises its own h but travels no further, which is what keeps the cycles of a
network from being counted again and again. The DebtRank of j is

    R_j = Σ_i h_i(T) v_i − Σ_i h_i(1) v_i,

with v the relative economic value (Σ v = 1). With ``shock = 1`` the seed's own h stays 1, so R_j is the
value lost by the other firms; with ``shock < 1`` it also counts the distress that comes back to j through
cycles (the paper's definition, followed here). 0 ≤ R_j ≤ 1 − shock · v_j.

Conventions of this module
--------------------------
* v defaults to the equity share v_i = max(E_i, 0) / Σ_k max(E_k, 0) (the issue asks for "the share of
  system equity lost if the firm defaults"); the paper leaves v as a relative economic value of the user's
  choosing, so ``value=`` takes any non-negative weights and normalises them to sum to 1.
* Equity ≤ 0. The paper assumes positive capital. A firm with E_i ≤ 0 has nothing left to lose: it is
  already fully distressed, h_i = 1 from t = 1, and no impact on it is defined (its column of W is zero
  rather than a division by a non-positive number). Unless it is the seed it starts Inactive: its failure is
  the state of the books, not something the seed causes, so it neither absorbs nor passes on anything in
  another firm's run (much as Bardoscia et al. 2015 keep banks that start with non-positive equity in
  default, passing nothing on). As a seed it is Distressed with h = 1 whatever ``shock`` is (its equity is
  already gone), so its DebtRank is what its creditors lose when it actually defaults: a firm with no equity
  cannot be distressed further, but it can still hurt its creditors. Those losses therefore appear in its
  own R only.
* Default seeds: every firm, so the result lines up with the firm index. A firm no one is exposed to gets 0.
* A firm's claim on itself means nothing for contagion, so the diagonal of ``exposures`` is ignored.

Complexity
----------
Every firm is D in at most one round of a run, so a batch of m seeds stops within n + 1 rounds (2 + the largest
number of links between a seed and a firm it reaches). ``chunk`` runs the seeds that many at a time over one W.

* Dense W, up to ``DENSE_FULL_MAX`` (128) firms: all runs at once as an (m × n) state, a round one product of all
  runs times all of W, O(m · n²), since at that size the count of array operations costs more than their size.
  Above it: only the runs still going and the rows of W of the firms Distressed in the round, O(m_live · s · n)
  for s such firms, plus O(m_live · n) bookkeeping.
* Sparse W (``scipy.sparse``; what economy/systemic.py passes): a round touches only the pairs (run, firm) it
  pushes distress to, O(P log P) for P pushes (the stored entries of the rows of W of the round's Distressed
  pairs); insolvent firms are a state shared by all runs, not pairs. The state lives in two zeroed (m × n)
  buffers (pages no run reaches are never written); the one O(m · n) pass per call is the final row-wise sum
  (the same sum over the same dense terms as the dense path, so R has the same bits as the dense-state rounds
  it replaced, which the tests keep as the reference). A round whose P exceeds ``PAIRWISE_ROUND_SHARE`` (¼) of
  the live runs' m_live · n pairs (distress reaching most firms) is taken whole over those runs' rows instead.

Memory is O(m · n) plus W (n² dense, nnz sparse). Measured on a shared 2-core machine (load ≈ 1): 30 firms,
dense, all seeds, ≈ 0.1 ms a call. Every agent of the benchmark's stressed population quarter
(benchmarks/test_performance.py: stressed_model) as a seed, in chunks of 256 (economy/systemic.py: debtranks),
where a run reaches a handful of firms (≈ 60,000 pushes in all at 10,000 firms): 1,000 firms ≈ 4 ms (48 ms with
the dense-state rounds), 10,000 firms ≈ 0.11–0.13 s (4.4–4.7 s). Random sparse networks in which every run
reaches nearly every firm are the worst case: 3,000 firms, 5 claims each, 50 seeds ≈ 25 ms (20 ms before); 1,000
firms with hubs, all seeds ≈ 0.17 s (0.16 s).

Reference implementations compared
----------------------------------
* ``michignolo/DebtRank`` (``debranktest.py``, by M. Puliga, one of the paper's authors; networkx). Same
  states and the same R (final minus initial value-weighted h, seed included). Differences: within a round
  it updates h in place while looping over the distressed nodes, so a node distressed in the same round as
  one of its debtors passes on h that already includes that round's impact (the paper, and this module, use
  h(t−1)), which makes the result depend on node order; it stops after 100 rounds; the impact matrix is read
  precomputed from a file (the min(1, ·) cap and equity handling are the caller's); v is a bank-size class.
* ``carloscinelli/NetworkRiskMeasures`` (``R/DebtRank.R``, ``R/risk_matrices.R``; R). Same update and state
  rules. Differences: the vulnerability matrix is exposures / buffer without the min(1, ·) cap, which
  matters whenever an impacting firm's h < 1 (W = 2 with h = 0.5 gives 1 there, 0.5 in the paper);
  non-positive buffers give infinite, undefined or negative impacts; it stops when the change in h falls
  below a tolerance (1e-9) or after 100 rounds even if some firm is still D; weights default to equal (1/n);
  each seed is a separate run.
This module follows the paper in each of these.

DebtRank with differential distress (Bardoscia, Battiston, Caccioli & Caldarelli 2015, "DebtRank: A
Microscopic Foundation for Shock Propagation", PLoS ONE 10(6): e0130406) — a note only, not implemented.
There every firm passes on the *increment* of its distress in every round,
h_i(t+1) = min(1, h_i(t) + Σ_k Λ_ik (h_k(t) − h_k(t−1))), with no Inactive state. It follows from iterating
the balance-sheet identities and removes the "single hit" of the original: here a firm passes on only the h
it has when first distressed, so adding a new exposure can make a firm distressed earlier with a smaller h
and *lower* R (see the tests); R grows with existing exposures only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["DISTRESSED", "INACTIVE", "UNDISTRESSED", "debtrank", "distress_rounds", "impact_matrix"]

# State codes of distress_rounds().
UNDISTRESSED, DISTRESSED, INACTIVE = 0, 1, 2


def impact_matrix(exposures, equity) -> np.ndarray | sp.csr_array:
    """The impact matrix W, W[k, i] = min(1, exposures[i, k] / equity[i]) (the impact of k's default on i).

    Creditors with equity ≤ 0 (columns of W) get zeros: they have no equity left to lose. The diagonal is
    zero. A dense ``exposures`` gives a dense array, a ``scipy.sparse`` one a ``csr_array``.
    """
    equity = np.asarray(equity, dtype=float)
    # An insolvent creditor's claims are divided by +inf (giving 0) instead of by E ≤ 0; the same division in
    # both layouts gives bit-identical impacts.
    divisor = np.where(equity > 0, equity, np.inf)
    if sp.issparse(exposures):
        a = sp.coo_array(exposures, dtype=float, copy=True)
        # Several claims of one creditor on one debtor (say two loans) add up before the min(1, ·) cap.
        a.sum_duplicates()
        n = _check_shapes(a.shape, equity)
        _check_values(a.data, equity)
        # Only the stored entries are scaled, so W stays as sparse as the exposures.
        keep = (a.row != a.col) & (equity[a.row] > 0) & (a.data > 0)
        rows, cols = a.row[keep], a.col[keep]
        impact = np.minimum(a.data[keep] / divisor[rows], 1.0)
        # Transposed on the way in: W is indexed [debtor, creditor], so h @ W pushes distress to creditors.
        return sp.csr_array((impact, (cols, rows)), shape=(n, n))
    a = np.asarray(exposures, dtype=float)
    _check_shapes(a.shape, equity)
    _check_values(a, equity)
    # Written straight into [debtor, creditor] order, C-contiguous: large runs gather rows of W every round.
    w = np.divide(a.T, divisor, order="C")
    np.minimum(w, 1.0, out=w)
    np.fill_diagonal(w, 0.0)
    return w


def debtrank(
    exposures,
    equity,
    *,
    seeds: Sequence[int] | np.ndarray | None = None,
    value=None,
    shock: float = 1.0,
    chunk: int | None = None,
) -> np.ndarray:
    """DebtRank R_j of each seed j (Battiston et al. 2012; equations and conventions in the module docstring).

    Parameters
    ----------
    exposures : (n, n) array or scipy.sparse matrix, exposures[i, k] = what i loses if k defaults (≥ 0).
    equity : (n,) equity of each firm; firms with equity ≤ 0 count as already defaulted.
    seeds : firm indices to distress one at a time (default: every firm, in index order).
    value : (n,) non-negative relative economic values (normalised to sum 1); default: positive-equity share.
    shock : initial distress h of a solvent seed, in [0, 1]; 1 is default.
    chunk : run at most this many seeds together (memory O(chunk · n) instead of O(len(seeds) · n)), over one W.
        With a sparse W each seed's R is the same to the bit whatever the chunk; a dense W's rounds are BLAS
        products, blocked by the number of runs, so there it is the same up to rounding.

    Returns
    -------
    (len(seeds),) array: R_j = Σ_i h_i(T) v_i − Σ_i h_i(1) v_i for each seed, in [0, 1 − shock · v_j].
    """
    w = impact_matrix(exposures, equity)
    equity = np.asarray(equity, dtype=float)
    n = equity.size
    seeds = _check_seeds(seeds, n)
    v = _relative_value(value, equity)
    run = _debtrank_sparse if sp.issparse(w) else _debtrank_dense
    if chunk is not None and chunk < 1:
        raise ValueError(f"chunk must be a positive number of seeds, got {chunk}")
    if chunk is None or seeds.size <= chunk:
        return run(w, equity, seeds, v, shock)
    return np.concatenate(
        [run(w, equity, seeds[i : i + chunk], v, shock) for i in range(0, seeds.size, chunk)]
    )


def _debtrank_dense(w, equity, seeds, v, shock) -> np.ndarray:
    """R over the dense (m × n) state of all runs: ``debtrank``'s path for a dense W; for a sparse W, the
    selective rounds ``debtrank`` took before ``_debtrank_sparse``, kept as the reference the tests hold it to."""
    h0, distressed, inactive = _initial_state(equity, seeds, shock)
    h = _propagate(w, h0, distressed, inactive)
    # h never falls, so each term is ≥ 0 and R ≥ 0 holds exactly, not only up to rounding. A row-wise sum, not
    # a matrix product: BLAS blocks a product by the number of rows, so the same seed's R would differ in the last
    # bits between a run of all seeds and one in chunks (economy/systemic.py runs them in chunks).
    return ((h - h0) * v).sum(axis=1)


def distress_rounds(exposures, equity, seed: int, *, shock: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The path of one seed's run, for inspection: h and state of every firm in each round t = 1, …, T.

    Returns ``(h, state)``, both (T, n), with T the first round in which no firm is Distressed; ``state``
    holds UNDISTRESSED, DISTRESSED and INACTIVE. ``debtrank`` runs the same dynamics without recording them.
    """
    w = impact_matrix(exposures, equity)
    equity = np.asarray(equity, dtype=float)
    seeds = _check_seeds([seed], equity.size)
    hs, states = [], []

    def record(h, d, i):
        hs.append(h[0].copy())
        states.append(np.where(i[0], INACTIVE, np.where(d[0], DISTRESSED, UNDISTRESSED)))

    if sp.issparse(w):
        _propagate_sparse(w, equity, seeds, shock, record=record)
    else:
        _propagate(w, *_initial_state(equity, seeds, shock), record=record)
    return np.array(hs), np.array(states)


def _check_shock(shock: float) -> None:
    if not 0.0 <= shock <= 1.0:
        raise ValueError(f"shock must lie in [0, 1], got {shock}")


def _initial_state(equity: np.ndarray, seeds: np.ndarray, shock: float):
    _check_shock(shock)
    m, n = seeds.size, equity.size
    solvent = equity > 0
    rows = np.arange(m)
    h = np.zeros((m, n))
    inactive = np.zeros((m, n), dtype=bool)
    # Insolvent firms start fully distressed and Inactive in every run: their failure is not the seed's doing.
    h[:, ~solvent] = 1.0
    inactive[:, ~solvent] = True
    distressed = np.zeros((m, n), dtype=bool)
    h[rows, seeds] = np.where(solvent[seeds], shock, 1.0)
    inactive[rows, seeds] = False
    distressed[rows, seeds] = True
    return h, distressed, inactive


# Up to this many firms a dense round multiplies all runs by all of W: one BLAS call is cheaper than picking
# out the live runs and the distressed firms. Above it (and always for sparse W) only those take part.
DENSE_FULL_MAX = 128


def _propagate(w, h, distressed, inactive, record=None) -> np.ndarray:
    """Run the rounds of every run (row) until no firm is Distressed in any of them; returns h(T)."""
    h, distressed, inactive = h.copy(), distressed.copy(), inactive.copy()
    if sp.issparse(w) or h.shape[1] > DENSE_FULL_MAX:
        return _propagate_selective(w, h, distressed, inactive, record)
    return _propagate_full(w, h, distressed, inactive, record)


def _propagate_full(w, h, distressed, inactive, record) -> np.ndarray:
    # Firms still Undistressed; a run's Distressed firms are always among them until they turn Inactive.
    undistressed = ~(inactive | distressed)
    sent = np.empty_like(h)
    push = np.empty_like(h)
    # Each firm is Distressed in at most one round of a run, so n + 1 rounds always suffice; the bound turns a
    # broken state rule into an error instead of a hang.
    for _ in range(h.shape[1] + 1):
        if record is not None:
            record(h, distressed, ~(undistressed | distressed))
        if not distressed.any():
            return h
        # In place, because at ~30 firms a round's cost is the number of array operations, not their size. A
        # run that has stopped has no Distressed firm, so it pushes nothing and its states stay as they are.
        np.multiply(h, distressed, out=sent)
        np.matmul(sent, w, out=push)
        h += push
        np.minimum(h, 1.0, out=h)
        np.greater(h, 0.0, out=distressed)
        distressed &= undistressed
        undistressed ^= distressed
    raise RuntimeError("DebtRank did not stop within n + 1 rounds; the state update is broken")


def _propagate_selective(w, h, distressed, inactive, record) -> np.ndarray:
    live = np.flatnonzero(distressed.any(axis=1))
    for _ in range(h.shape[1] + 1):
        if record is not None:
            record(h, distressed, inactive)
        if live.size == 0:
            return h
        h_live, d_live = h[live], distressed[live]
        # Only the rows of W of firms distressed in this round (in some run) can push anything.
        senders = np.flatnonzero(d_live.any(axis=0))
        push = np.where(d_live[:, senders], h_live[:, senders], 0.0) @ w[senders]
        h_new = np.minimum(h_live + push, 1.0)
        inactive_new = inactive[live] | d_live
        distressed_new = (h_new > 0.0) & ~inactive_new
        h[live], inactive[live], distressed[live] = h_new, inactive_new, distressed_new
        live = live[distressed_new.any(axis=1)]
    raise RuntimeError("DebtRank did not stop within n + 1 rounds; the state update is broken")


def _debtrank_sparse(w: sp.csr_array, equity, seeds, v, shock) -> np.ndarray:
    """R of each seed from the sparse runs: bit for bit what ``_debtrank_dense`` gives on the same sparse W."""
    m, n = seeds.size, equity.size
    h, reached, dense, h0_seeds = _propagate_sparse(w, equity, seeds, shock)
    seed_pairs = np.arange(m) * n + seeds
    # (h - h0) * v is an exact 0 at every pair no run reached (h = h0 there: 0 for a solvent firm, 1 for an
    # insolvent one), so the buffer h, 0 there, takes the same terms in place at the pairs reached (h0 = 0 but for
    # the seeds) and over the whole rows of the runs some round took whole, all from h as it came back; the same
    # row-wise sum over it gives the same bits.
    seed_terms = (h[seed_pairs] - h0_seeds) * v[seeds]
    reached_terms = h[reached] * v[reached % n]
    rows = h.reshape(m, n)
    rows[dense] *= v
    h[reached] = reached_terms
    h[seed_pairs] = seed_terms
    return rows.sum(axis=1)


def _propagate_sparse(w: sp.csr_array, equity, seeds, shock, record=None):
    """The rounds of every run over a sparse W, touching only the pairs (run, firm) the runs reach.

    Returns ``(h, reached, dense, h0_seeds)``: h of every pair as a flat (m · n) array, pair (r, i) at r · n + i,
    with 0 at the pairs never reached (an insolvent firm's h = 1 there is left to the caller); the pairs a
    pair-by-pair round pushed distress to (repeats allowed); the runs a round took whole (their every pair may
    have been reached); and the seeds' initial h. The state of the pairs is the one
    ``_propagate_selective`` keeps densely, with the same bits: a round pushes, for each pair (r, k) Distressed
    in it, h_rk · W[k→i] to each (r, i) along the stored entries of W's row k, and adds the pushes to one pair
    in increasing k from 0, as the dense-by-sparse product there does (scipy's csc_matvecs: y += a · x, sender
    by sender); a sender Distressed in another run adds an exact 0 there, which leaves the sum as it is.
    """
    _check_shock(shock)
    m, n = seeds.size, equity.size
    solvent = equity > 0
    indptr = w.indptr
    # Buffers over every pair, allocated once and zero (calloc'd: pages no run reaches are never written);
    # a round reads and writes only the pairs it reaches. Insolvent firms other than the seed are the shared
    # base state, Inactive with h = 1 in every run: their columns of W are empty (impact_matrix), so no push
    # reaches them and they need no pair.
    h = np.zeros(m * n)
    state = np.zeros(m * n, dtype=np.int8)
    # The pairs Distressed in this round, sorted by (run, firm), and their h.
    pairs = np.arange(m, dtype=np.int64) * n + seeds
    h0_seeds = np.where(solvent[seeds], shock, 1.0)
    sent = h0_seeds
    h[pairs] = sent
    state[pairs] = DISTRESSED
    reached = [pairs[:0]]
    dense = np.zeros(m, dtype=bool)  # the runs some round took whole (_dense_round)
    for _ in range(n + 1):
        if record is not None:
            record(*_dense_state(h, state, solvent, seeds))
        if pairs.size == 0:
            return h, np.concatenate(reached), np.flatnonzero(dense), h0_seeds
        run, firm = np.divmod(pairs, n)
        start, count = indptr[firm], indptr[firm + 1] - indptr[firm]
        live = np.unique(run)
        if count.sum() <= PAIRWISE_ROUND_SHARE * live.size * n:
            pairs, sent, receivers = _pairwise_round(w, h, state, pairs, sent, run, start, count, n)
            reached.append(receivers)
        else:
            pairs, sent = _dense_round(w, h.reshape(m, n), state.reshape(m, n), live)
            dense[live] = True
    raise RuntimeError("DebtRank did not stop within n + 1 rounds; the state update is broken")


# A round of the sparse runs goes pair by pair while its pushes number at most this share of the live runs'
# (m_live x n) pairs: a pair-by-pair push (gathers, a sort) costs several times a dense one per pair. Above it
# (distress reaching most firms), the round is the selective path's, over the live runs' rows of the buffers.
PAIRWISE_ROUND_SHARE = 0.25


def _pairwise_round(w, h, state, pairs, sent, run, start, count, n):
    """One round from the Distressed pairs (sorted by (run, firm)) and their h; returns the next round's and the
    pairs pushed to. Updates the flat buffers h and state in place."""
    # One entry per (Distressed pair, stored entry of its firm's row of W), grouped by pair in (run, firm) order,
    # so each receiving pair's pushes come in increasing firm k.
    sender = np.repeat(np.arange(pairs.size), count)
    entry = np.arange(sender.size) + np.repeat(start - (np.cumsum(count) - count), count)
    to = run[sender] * n + w.indices[entry]
    receivers, which = np.unique(to, return_inverse=True)
    # bincount adds its weights in input order, from 0.
    push = np.bincount(which, weights=w.data[entry] * sent[sender], minlength=receivers.size)
    h_new = np.minimum(h[receivers] + push, 1.0)
    h[receivers] = h_new
    new = (state[receivers] == UNDISTRESSED) & (h_new > 0.0)
    state[pairs] = INACTIVE
    state[receivers[new]] = DISTRESSED
    return receivers[new], h_new[new], receivers


def _dense_round(w, h, state, live):
    """The same round as ``_pairwise_round``, as ``_propagate_selective`` takes it over the live runs' rows of the
    (m x n) buffers h and state (updated in place); returns the next round's Distressed pairs and their h."""
    h_live, state_live = h[live], state[live]
    d_live = state_live == DISTRESSED
    senders = np.flatnonzero(d_live.any(axis=0))
    push = np.where(d_live[:, senders], h_live[:, senders], 0.0) @ w[senders]
    h_new = np.minimum(h_live + push, 1.0)
    new = (state_live == UNDISTRESSED) & (h_new > 0.0)
    # UNDISTRESSED (0) → DISTRESSED (1) → INACTIVE (2): one step for the new and for this round's Distressed.
    state_live += d_live
    state_live += new
    h[live], state[live] = h_new, state_live
    n = h.shape[1]
    at = np.flatnonzero(new)
    return live[at // n] * n + at % n, h_new.ravel()[at]


def _dense_state(h: np.ndarray, state: np.ndarray, solvent: np.ndarray, seeds: np.ndarray):
    """The sparse runs' state as the dense (h, distressed, inactive) of ``_propagate_full``, for ``record``."""
    m, n = seeds.size, solvent.size
    h, state = h.reshape(m, n).copy(), state.reshape(m, n).copy()
    base = np.repeat(~solvent[None, :], m, axis=0)
    base[np.arange(m), seeds] = False
    h[base], state[base] = 1.0, INACTIVE
    return h, state == DISTRESSED, state == INACTIVE


def _check_shapes(shape, equity: np.ndarray) -> int:
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"exposures must be a square matrix, got shape {shape}")
    if equity.shape != (shape[0],):
        raise ValueError(f"equity must have shape ({shape[0]},), got {equity.shape}")
    return shape[0]


def _check_values(exposure_values: np.ndarray, equity: np.ndarray) -> None:
    if not (np.all(np.isfinite(exposure_values)) and np.all(np.isfinite(equity))):
        raise ValueError("exposures and equity must be finite")
    if np.any(exposure_values < 0):
        raise ValueError("exposures must be non-negative")


def _check_seeds(seeds, n: int) -> np.ndarray:
    if seeds is None:
        return np.arange(n)
    seeds = np.asarray(seeds)
    if seeds.ndim != 1 or (seeds.size and not np.issubdtype(seeds.dtype, np.integer)):
        raise ValueError("seeds must be a one-dimensional sequence of firm indices")
    seeds = seeds.astype(np.intp)
    if np.any((seeds < 0) | (seeds >= n)):
        raise ValueError(f"seeds must lie in [0, {n})")
    return seeds


def _relative_value(value, equity: np.ndarray) -> np.ndarray:
    v = np.maximum(equity, 0.0) if value is None else np.asarray(value, dtype=float)
    if v.shape != equity.shape:
        raise ValueError(f"value must have shape {equity.shape}, got {v.shape}")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("value must be finite and non-negative")
    total = v.sum()
    # No value in the system (every firm insolvent, or all-zero weights): nothing can be lost.
    return v / total if total > 0 else np.zeros_like(v)
