"""Tests of model.clearing: Eisenberg–Noe clearing with Rogers–Veraart default costs."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal

from accounting import clearing
from accounting.clearing import SOLVENCY_RTOL, ClearingResult, clear

# ---------------------------------------------------------------------------------------------------------
# Reference helpers (deliberately naive, dense, written straight from the definitions)
# ---------------------------------------------------------------------------------------------------------


def _dense(L) -> np.ndarray:
    return L.toarray() if sp.issparse(L) else np.asarray(L, dtype=float)


def _rv_map(L, e, ext, alpha, beta, p) -> np.ndarray:
    """Φ(p)_i = p̄_i if e_i + Σ_j Π_ji p_j ≥ p̄_i (up to the solvency tolerance), else α e_i + β Σ_j Π_ji p_j.

    Evaluated on recovery rates p/p̄ and nominal claims, like the module."""
    L = _dense(L)
    obl = L.sum(axis=1) + ext
    rate = np.divide(p, obl, out=np.ones_like(p), where=obl > 0)
    inflow = L.T @ rate
    assets = e + inflow
    solvent = assets >= obl - SOLVENCY_RTOL * (assets + obl)
    return np.where(solvent, obl, np.clip(alpha * e + beta * inflow, 0.0, obl))


def _brute_force_clearing_vectors(L, e, ext, alpha, beta) -> list[np.ndarray]:
    """Every clearing vector with a nonsingular default set: for each of the 2^n default sets D solve
    (I − β Π_DDᵀ) p_D = α e_D + β Σ_{j∉D} Π_jD p̄_j and keep p if exactly the firms in D are insolvent."""
    L = _dense(L)
    n = len(e)
    obl = L.sum(axis=1) + ext
    Pi = np.divide(L, obl[:, None], out=np.zeros_like(L), where=obl[:, None] > 0)
    found = []
    for mask in itertools.product([False, True], repeat=n):
        D = np.array(mask, dtype=bool)
        if np.any(D & (obl == 0)):
            continue
        p = obl.copy()
        if D.any():
            A = np.eye(D.sum()) - beta * Pi[np.ix_(D, D)].T
            if np.linalg.cond(A) > 1e10:
                continue  # singular set (closed cycle with β = 1): a continuum, covered by explicit tests
            rhs = alpha * e[D] + beta * Pi[np.ix_(~D, D)].T @ obl[~D]
            p[D] = np.linalg.solve(A, rhs)
        assets = e + Pi.T @ p
        insolvent = assets < obl - SOLVENCY_RTOL * (assets + obl)
        if np.array_equal(insolvent, D) and np.all(p >= -1e-12):
            found.append(p)
    return found


def _assert_clearing(res: ClearingResult, L, e, ext, alpha, beta) -> None:
    """The result solves the Rogers–Veraart fixed-point equation, to 1e-9 relative."""
    scale = 1.0 + float(np.max(res.obligations, initial=0.0))
    assert_allclose(_rv_map(L, e, ext, alpha, beta, res.payments), res.payments, rtol=0, atol=1e-9 * scale)
    L = _dense(L)
    assets = e + L.T @ res.recovery_rate
    # Solvent firms pay in full and can afford to; defaulters could not.
    assert_array_equal(res.payments[~res.defaulted], res.obligations[~res.defaulted])
    assert np.all(assets[~res.defaulted] >= res.obligations[~res.defaulted] * (1 - 1e-9) - 1e-9)
    assert np.all(assets[res.defaulted] < res.obligations[res.defaulted])


# ---------------------------------------------------------------------------------------------------------
# 1. Worked examples, computed by hand
# ---------------------------------------------------------------------------------------------------------

# Three banks A=0, B=1, C=2.
# A owes B 6 and C 2 (p̄_A = 8); B owes A 2 and C 2 (p̄_B = 4); C owes A 2 (p̄_C = 2).
THREE_BANKS = np.array([[0.0, 6.0, 2.0], [2.0, 0.0, 2.0], [2.0, 0.0, 0.0]])


def test_three_banks_eisenberg_noe_single_default():
    # e = (1, 0.5, 1).  Round 1, everyone paying in full:
    #   A: 1 + 2 (from B) + 2 (from C) = 5 < 8  -> default;  B: 0.5 + 6 = 6.5 ≥ 4;  C: 1 + 2 + 2 = 5 ≥ 2.
    # Round 2, A pays everything it has: p_A = 1 + 2 + 2 = 5, i.e. 5/8 of each claim.
    #   B: 0.5 + 6·5/8 = 4.25 ≥ 4;  C: 1 + 2·5/8 + 2 = 4.25 ≥ 2.  No new default, p* = (5, 4, 2).
    res = clear(THREE_BANKS, [1.0, 0.5, 1.0])
    assert_allclose(res.payments, [5.0, 4.0, 2.0], rtol=1e-14)
    assert_array_equal(res.defaulted, [True, False, False])
    assert [r.tolist() for r in res.rounds] == [[0]]
    assert_allclose(res.recovery_rate, [5 / 8, 1.0, 1.0], rtol=1e-14)
    assert_allclose(res.shortfall, [3.0, 0.0, 0.0], atol=1e-14)
    # Bilateral payments: A pays B 6·5/8 = 3.75 and C 2·5/8 = 1.25; B and C pay in full.
    assert_allclose(res.payment_matrix, [[0, 3.75, 1.25], [2, 0, 2], [2, 0, 0]], rtol=1e-14)


def test_three_banks_cascade_takes_two_rounds():
    # Same network, but B has no external assets: e = (1, 0, 1).
    # Round 1: A defaults as above (5 < 8); B: 0 + 6 = 6 ≥ 4; C fine.
    # Round 2 (A defaults): p_A = 5, B receives 6·5/8 = 3.75 < 4 -> B defaults in round 2.
    # Round 3 (A, B default, C pays 2):  p_A = 1 + p_B·2/4 + 2,  p_B = 0 + p_A·6/8
    #   -> p_A = 3 + 0.375 p_A -> p_A = 4.8, p_B = 3.6.
    #   C: 1 + 4.8·2/8 + 3.6·2/4 = 1 + 1.2 + 1.8 = 4 ≥ 2.  Done: p* = (4.8, 3.6, 2), rounds ([A], [B]).
    res = clear(THREE_BANKS, [1.0, 0.0, 1.0])
    assert_allclose(res.payments, [4.8, 3.6, 2.0], rtol=1e-14)
    assert_array_equal(res.defaulted, [True, True, False])
    assert [r.tolist() for r in res.rounds] == [[0], [1]]
    assert_allclose(res.payment_matrix, [[0, 3.6, 1.2], [1.8, 0, 1.8], [2, 0, 0]], rtol=1e-14)


def test_default_costs_cause_an_extra_default():
    # A=0 owes B=1 10; B owes outside creditors 7.5. e = (8, 0).
    # Eisenberg–Noe (α = β = 1): A pays its 8 (< 10, default); B receives 8 ≥ 7.5 and survives.
    L = np.array([[0.0, 10.0], [0.0, 0.0]])
    e = np.array([8.0, 0.0])
    ext = np.array([0.0, 7.5])
    en = clear(L, e, external_liabilities=ext)
    assert_allclose(en.payments, [8.0, 7.5])
    assert [r.tolist() for r in en.rounds] == [[0]]
    assert_allclose(en.paid_to_external, [0.0, 7.5])
    # Rogers–Veraart, α = 0.9, β = 0.5:
    #   Round 1: A defaults (8 < 10); B would receive 10 ≥ 7.5.
    #   Round 2: p_A = α·8 + β·0 = 7.2; B receives 7.2 < 7.5 -> B defaults because of A's default costs.
    #   Round 3: p_B = α·0 + β·7.2 = 3.6, all of it to the outside creditors.
    rv = clear(L, e, external_liabilities=ext, alpha=0.9, beta=0.5)
    assert_allclose(rv.payments, [7.2, 3.6], rtol=1e-14)
    assert [r.tolist() for r in rv.rounds] == [[0], [1]]
    assert_allclose(rv.paid_to_external, [0.0, 3.6], rtol=1e-14)
    assert_allclose(rv.recovery_rate, [0.72, 0.48], rtol=1e-14)


def test_external_liabilities_rank_pari_passu():
    # A owes B 6 and outsiders 2 (p̄ = 8) and has 4: everyone gets half. B has no debts (p̄ = 0).
    res = clear(np.array([[0.0, 6.0], [0.0, 0.0]]), [4.0, 0.0], external_liabilities=[2.0, 0.0])
    assert_allclose(res.payments, [4.0, 0.0])
    assert_allclose(res.payment_matrix, [[0.0, 3.0], [0.0, 0.0]])
    assert_allclose(res.paid_to_external, [1.0, 0.0])
    assert_allclose(res.recovery_rate, [0.5, 1.0])  # B owes nothing: recovery 1 by convention
    assert_array_equal(res.defaulted, [True, False])


def test_everyone_solvent_pays_in_full_with_no_rounds():
    res = clear(THREE_BANKS, [10.0, 10.0, 10.0])
    assert_array_equal(res.payments, [8.0, 4.0, 2.0])
    assert not res.defaulted.any()
    assert res.rounds == ()


def test_exactly_solvent_firm_is_not_defaulted_by_rounding():
    # B's inflow 0.1 + 0.2 equals its debt 0.3 only up to rounding; it must count as solvent.
    L = np.array([[0.0, 0.1, 0.0], [0.0, 0.0, 0.3], [0.0, 0.0, 0.0]])
    res = clear(L, [0.1, 0.2, 0.0], alpha=0.5, beta=0.5)
    assert not res.defaulted.any()


def test_empty_network():
    res = clear(np.zeros((0, 0)), np.zeros(0))
    assert res.payments.shape == (0,) and res.rounds == ()


# ---------------------------------------------------------------------------------------------------------
# 2. Several clearing vectors: the greatest is returned
# ---------------------------------------------------------------------------------------------------------


def test_cycle_without_assets_returns_full_payment():
    # L = [[0,1],[1,0]], e = 0: every p = (t, t), t ∈ [0, 1], is a clearing vector (each pays what it gets);
    # the greatest is p̄ = (1, 1).
    L = np.array([[0.0, 1.0], [1.0, 0.0]])
    for t in (0.0, 0.3, 1.0):
        assert_allclose(_rv_map(L, np.zeros(2), np.zeros(2), 1.0, 1.0, np.array([t, t])), [t, t])
    res = clear(L, [0.0, 0.0])
    assert_array_equal(res.payments, [1.0, 1.0])
    assert not res.defaulted.any()


def test_cycle_with_default_costs_has_two_clearing_vectors():
    # L = [[0,1],[1,0]], e = (0.2, 0.2), α = β = 0.5.
    # p = (1, 1): each has 0.2 + 1 ≥ 1, solvent -> clearing vector.
    # Both default: p_i = 0.5·0.2 + 0.5·p_j -> p = (0.2, 0.2); each has 0.2 + 0.2 = 0.4 < 1 -> also clearing.
    # One defaults: p_1 = 1, p_2 = 0.1 + 0.5 = 0.6; but firm 1 then has 0.8 < 1 -> inconsistent.
    L = np.array([[0.0, 1.0], [1.0, 0.0]])
    e = np.array([0.2, 0.2])
    z = np.zeros(2)
    found = _brute_force_clearing_vectors(L, e, z, 0.5, 0.5)
    assert_allclose(sorted(p.tolist() for p in found), [[0.2, 0.2], [1.0, 1.0]])
    res = clear(L, e, alpha=0.5, beta=0.5)
    assert_array_equal(res.payments, [1.0, 1.0])
    # Iterating Φ upward from 0 finds the least clearing vector, (0.2, 0.2), which the result dominates.
    p = np.zeros(2)
    for _ in range(200):
        p = _rv_map(L, e, z, 0.5, 0.5, p)
    assert_allclose(p, [0.2, 0.2])
    assert np.all(res.payments >= p)


def test_three_firm_ring_with_costs_returns_greatest():
    # A ring 0 -> 1 -> 2 -> 0 (1 each), firm 0 also owes outsiders 0.1; e = 0.2 each, α = β = 0.5.
    # All solvent is self-consistent (firm 0: 0.2 + 1 ≥ 1.1, the others 0.2 + 1 ≥ 1), and so is
    # "all default" (p_0 = 0.1 + 0.5 p_2, p_1 = 0.1 + 0.5·p_0/1.1, p_2 = 0.1 + 0.5 p_1, each with < 1).
    L = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    e = np.full(3, 0.2)
    ext = np.array([0.1, 0.0, 0.0])
    res = clear(L, e, external_liabilities=ext, alpha=0.5, beta=0.5)
    assert_array_equal(res.payments, [1.1, 1.0, 1.0])
    found = _brute_force_clearing_vectors(L, e, ext, 0.5, 0.5)
    assert len(found) >= 2
    for p in found:
        assert np.all(res.payments >= p)
    _assert_clearing(res, L, e, ext, 0.5, 0.5)


# ---------------------------------------------------------------------------------------------------------
# 3. Properties over random small networks
# ---------------------------------------------------------------------------------------------------------

_amount = st.one_of(st.just(0.0), st.just(0.0), st.sampled_from([0.5, 1.0, 2.0, 3.0]), st.floats(0.01, 10.0))
_share = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0.0, 1.0))


@st.composite
def networks(draw, max_beta: float = 1.0):
    n = draw(st.integers(1, 8))
    L = draw(arrays(float, (n, n), elements=_amount))
    np.fill_diagonal(L, 0.0)
    e = draw(arrays(float, n, elements=_amount))
    ext = draw(arrays(float, n, elements=st.one_of(st.just(0.0), _amount)))
    alpha = draw(_share)
    beta = draw(_share.filter(lambda b: b <= max_beta))
    return L, e, ext, alpha, beta


@settings(max_examples=100, deadline=None)
@given(networks())
def test_result_is_a_clearing_vector_within_bounds(net):
    L, e, ext, alpha, beta = net
    res = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    _assert_clearing(res, L, e, ext, alpha, beta)  # (a) fixed point, (c) solvent firms pay in full
    assert np.all(res.payments >= 0) and np.all(res.payments <= res.obligations)  # (b)
    # Rounds partition the defaulters, in order of default.
    in_rounds = np.concatenate([np.zeros(0, int), *res.rounds])
    assert_array_equal(np.sort(in_rounds), np.flatnonzero(res.defaulted))
    # Booked bilateral and external payments add up to each firm's total payment.
    assert_allclose(
        res.payment_matrix.sum(axis=1) + res.paid_to_external, res.payments, rtol=1e-12, atol=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(networks(), arrays(float, 8, elements=st.floats(0.0, 5.0)))
def test_more_external_assets_never_lower_payments(net, bump):
    # (d) Φ is increasing in e, hence so is its greatest fixed point.
    L, e, ext, alpha, beta = net
    base = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    richer = clear(L, e + bump[: len(e)], external_liabilities=ext, alpha=alpha, beta=beta)
    assert np.all(richer.payments >= base.payments - 1e-9 * (1 + base.obligations.max()))
    assert not np.any(richer.defaulted & ~base.defaulted)


@settings(max_examples=60, deadline=None)
@given(networks())
def test_greatest_of_all_clearing_vectors(net):
    # (e, exact) Of the clearing vectors of all nonsingular default sets, the result is one and the largest.
    L, e, ext, alpha, beta = net
    res = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    found = _brute_force_clearing_vectors(L, e, ext, alpha, beta)
    tol = 1e-9 * (1 + res.obligations.max())
    assert any(np.allclose(p, res.payments, rtol=0, atol=tol) for p in found)
    for p in found:
        assert np.all(res.payments >= p - tol)


@settings(max_examples=60, deadline=None)
@given(networks(max_beta=0.9))
def test_equals_limit_of_iteration_down_from_full_payment(net):
    # (e) Φ is monotone and Φ(p̄) ≤ p̄, so Φ^k(p̄) decreases to the greatest fixed point. Every iterate stays
    # above it; with β ≤ 0.9 the iteration contracts fast enough to reach it in a few thousand steps.
    L, e, ext, alpha, beta = net
    res = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    tol = 1e-9 * (1 + res.obligations.max())
    # Same map as _rv_map, inlined on recovery rates for speed.
    obl = L.sum(axis=1) + ext
    LT = L.T.copy()
    p = obl.copy()
    for _ in range(5000):
        rate = np.divide(p, obl, out=np.ones_like(p), where=obl > 0)
        inflow = LT @ rate
        assets = e + inflow
        solvent = assets >= obl - SOLVENCY_RTOL * (assets + obl)
        nxt = np.where(solvent, obl, np.minimum(alpha * e + beta * inflow, obl))
        assert np.all(nxt <= p + 1e-12 * tol)  # decreasing ...
        done = np.max(np.abs(nxt - p)) <= 1e-15 * tol
        p = nxt
        if done:
            break
    assert np.all(p >= res.payments - tol)  # ... and bounded below by the result
    assert_allclose(p, res.payments, rtol=0, atol=tol)


@settings(max_examples=30, deadline=None)
@given(networks())
def test_dense_and_sparse_input_agree_exactly(net):
    # (f) Same numbers whether the matrix comes dense, as a CSR/COO sparse array or as a sparse matrix.
    L, e, ext, alpha, beta = net
    kw = dict(external_liabilities=ext, alpha=alpha, beta=beta)
    dense = clear(L, e, **kw)
    assert isinstance(dense.payment_matrix, np.ndarray)
    for sparse_L in (sp.csr_array(L), sp.coo_array(L), sp.csr_matrix(L)):
        res = clear(sparse_L, e, **kw)
        assert_array_equal(res.payments, dense.payments)
        assert_array_equal(res.defaulted, dense.defaulted)
        assert [r.tolist() for r in res.rounds] == [r.tolist() for r in dense.rounds]
        pm = res.payment_matrix
        assert sp.issparse(pm) and isinstance(pm, sp.sparray) == isinstance(sparse_L, sp.sparray)
        assert_array_equal(pm.toarray(), dense.payment_matrix)


@settings(max_examples=30, deadline=None)
@given(networks())
def test_krylov_path_matches_direct_solve(net):
    # Large default sets are solved with GMRES instead of sparse LU; on small networks both must agree.
    L, e, ext, alpha, beta = net
    direct = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    saved = clearing._DIRECT_SOLVE_MAX
    clearing._DIRECT_SOLVE_MAX = 0
    try:
        krylov = clear(L, e, external_liabilities=ext, alpha=alpha, beta=beta)
    finally:
        clearing._DIRECT_SOLVE_MAX = saved
    assert_allclose(krylov.payments, direct.payments, rtol=0, atol=1e-9 * (1 + direct.obligations.max()))
    _assert_clearing(krylov, L, e, ext, alpha, beta)


# ---------------------------------------------------------------------------------------------------------
# Singular default sets (reachable only through rounding; the fallback is tested directly)
# ---------------------------------------------------------------------------------------------------------


def test_singular_closed_cycle_falls_back_to_greatest_solution():
    # Force both firms of a closed cycle with no assets into the default set: I − Π_DDᵀ is singular, every
    # (t, t) solves it, and the greatest solution below the previous payments (1, 1) is (1, 1).
    LT = sp.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    pit = (np.array([0, 1]), np.array([1, 0]), np.array([1.0, 1.0]))
    r = clearing._solve_round(LT, pit, np.zeros(2), np.ones(2), np.ones(2), np.ones(2, bool), 1.0, 1.0)
    assert_array_equal(r, [1.0, 1.0])


def test_greatest_fixed_point_iteration():
    # p = min(p_prev, B p), B the 2-cycle, A = I − B: the fixed points are (t, t), and the greatest below
    # (1, 0.5) is (0.5, 0.5).
    A = sp.csr_array(np.array([[1.0, -1.0], [-1.0, 1.0]]))
    assert_allclose(clearing._greatest_fixed_point(A, np.zeros(2), np.array([1.0, 0.5])), [0.5, 0.5])
    # With a leak the iteration converges to the unique solution of p = rhs + B p.
    A = sp.csr_array(np.array([[1.0, -0.5], [-0.5, 1.0]]))
    assert_allclose(clearing._greatest_fixed_point(A, np.array([1.0, 1.0]), np.array([5.0, 5.0])), [2.0, 2.0])


# ---------------------------------------------------------------------------------------------------------
# 4. A large sparse network
# ---------------------------------------------------------------------------------------------------------


def test_ten_thousand_firms_sparse():
    rng = np.random.default_rng(20240601)
    n, m = 10_000, 100_000
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = i != j
    L = sp.csr_array((rng.uniform(0.5, 2.0, keep.sum()), (i[keep], j[keep])), shape=(n, n))
    owed_by = np.asarray(L.sum(axis=1)).ravel()
    e = rng.uniform(0.0, 0.5, n) * owed_by
    ext = rng.uniform(0.0, 5.0, n)
    res = clear(L, e, external_liabilities=ext, alpha=0.5, beta=0.8)
    assert 0 < res.defaulted.sum() < n and len(res.rounds) >= 2
    # Fixed-point equation, evaluated sparsely.
    inflow = L.T @ res.recovery_rate
    assets = e + inflow
    solvent = assets >= res.obligations - SOLVENCY_RTOL * (assets + res.obligations)
    assert_array_equal(solvent, ~res.defaulted)
    phi = np.where(solvent, res.obligations, 0.5 * e + 0.8 * inflow)
    assert_allclose(phi, res.payments, rtol=0, atol=1e-9 * res.obligations.max())
    assert sp.issparse(res.payment_matrix)


# ---------------------------------------------------------------------------------------------------------
# Result object
# ---------------------------------------------------------------------------------------------------------


def test_result_is_frozen_and_read_only():
    res = clear(THREE_BANKS, [1.0, 0.0, 1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.payments = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.payments[0] = 0.0


# ---------------------------------------------------------------------------------------------------------
# 5. Bad inputs
# ---------------------------------------------------------------------------------------------------------

GOOD_L = np.array([[0.0, 1.0], [2.0, 0.0]])
GOOD_E = np.array([1.0, 1.0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            dict(liabilities=np.array([[0.0, -1.0], [2.0, 0.0]])),
            r"liabilities must be nonnegative; found -1.0 at \[0, 1\]",
        ),
        (dict(liabilities=sp.csr_array(np.array([[0.0, -1.0], [2.0, 0.0]]))), r"liabilities must be nonneg"),
        (
            dict(liabilities=np.array([[1.0, 1.0], [2.0, 0.0]])),
            r"liabilities must be zero on the diagonal.*1.0 at \[0, 0\]",
        ),
        (
            dict(liabilities=sp.csr_array(np.array([[0.0, 1.0], [2.0, 3.0]]))),
            r"liabilities must be zero on the diagonal.*3.0 at \[1, 1\]",
        ),
        (dict(liabilities=np.zeros((2, 3))), r"liabilities must be a square.*\(2, 3\)"),
        (dict(liabilities=sp.csr_array(np.zeros((2, 3)))), r"liabilities must be a square.*\(2, 3\)"),
        (dict(liabilities=np.zeros(4)), r"liabilities must be a square.*\(4,\)"),
        (
            dict(liabilities=np.array([[0.0, np.nan], [2.0, 0.0]])),
            r"liabilities must be finite; found nan at \[0, 1\]",
        ),
        (
            dict(liabilities=sp.csr_array(np.array([[0.0, np.inf], [2.0, 0.0]]))),
            r"liabilities must be finite",
        ),
        (dict(liabilities=[["a", "b"], ["c", "d"]]), r"liabilities must be a numeric"),
        (dict(external_assets=[1.0, 1.0, 1.0]), r"external_assets must have shape \(n,\) = \(2,\).*\(3,\)"),
        (dict(external_assets=[1.0, -0.5]), r"external_assets must be nonnegative.*-0.5 at index 1"),
        (dict(external_assets=[np.nan, 1.0]), r"external_assets must be finite; found nan at index 0"),
        (dict(external_liabilities=[0.0, -2.0]), r"external_liabilities must be nonnegative"),
        (dict(external_liabilities=[np.inf, 0.0]), r"external_liabilities must be finite"),
        (dict(external_liabilities=[0.0]), r"external_liabilities must have shape"),
        (dict(alpha=1.5), r"alpha must be in \[0, 1\]; got 1.5"),
        (dict(alpha=float("nan")), r"alpha must be in \[0, 1\]"),
        (dict(beta=-0.1), r"beta must be in \[0, 1\]; got -0.1"),
        (dict(beta="high"), r"beta must be a number"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(kwargs, match):
    args = dict(liabilities=GOOD_L, external_assets=GOOD_E) | kwargs
    L, e = args.pop("liabilities"), args.pop("external_assets")
    with pytest.raises(ValueError, match=match):
        clear(L, e, **args)
