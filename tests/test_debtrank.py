"""DebtRank (Battiston et al. 2012) on networks small enough to follow by hand, and properties of random ones.

Exposures are written x[creditor, debtor]: x[B, A] = 5 is B's claim on A, so A's default costs B
min(1, 5 / E_B) of its equity, the impact W[A→B].
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from accounting import debtrank as dr
from accounting.debtrank import DISTRESSED as D
from accounting.debtrank import INACTIVE as I
from accounting.debtrank import UNDISTRESSED as U
from accounting.debtrank import debtrank, distress_rounds, impact_matrix

A, B, C = 0, 1, 2


def chain():
    """C is exposed to B, B is exposed to A. E = (10, 10, 20), so v = (0.25, 0.25, 0.5)."""
    x = np.zeros((3, 3))
    x[B, A] = 5.0  # W[A→B] = 5 / 10 = 0.5
    x[C, B] = 5.0  # W[B→C] = 5 / 20 = 0.25
    return x, np.array([10.0, 10.0, 20.0])


def ring():
    """A → B → C → A in the direction distress travels. E = (10, 20, 5), so v = (10, 20, 5) / 35."""
    x = np.zeros((3, 3))
    x[B, A] = 8.0  # W[A→B] = 8 / 20 = 0.4
    x[C, B] = 4.0  # W[B→C] = 4 / 5 = 0.8
    x[A, C] = 5.0  # W[C→A] = 5 / 10 = 0.5
    return x, np.array([10.0, 20.0, 5.0])


def random_network(rng, n, density=0.4, insolvent=0.0):
    x = rng.uniform(0.0, 20.0, (n, n)) * (rng.random((n, n)) < density)
    equity = rng.uniform(1.0, 30.0, n)
    equity[rng.random(n) < insolvent] = rng.choice([0.0, -3.0])
    return x, equity


def test_chain_round_by_round():
    x, equity = chain()
    h, state = distress_rounds(x, equity, A)
    # t=1: seed A defaults.                      h = (1, 0, 0)        s = (D, U, U)
    # t=2: h_B = 0 + 0.5 · 1 = 0.5.              h = (1, 0.5, 0)      s = (I, D, U)
    # t=3: h_C = 0 + 0.25 · 0.5 = 0.125.         h = (1, 0.5, 0.125)  s = (I, I, D)
    # t=4: nobody is exposed to C: no change.    h = (1, 0.5, 0.125)  s = (I, I, I), stop.
    np.testing.assert_allclose(h, [[1, 0, 0], [1, 0.5, 0], [1, 0.5, 0.125], [1, 0.5, 0.125]])
    np.testing.assert_array_equal(state, [[D, U, U], [I, D, U], [I, I, D], [I, I, I]])


def test_chain_debtrank():
    x, equity = chain()
    # R_A = 0.5 · v_B + 0.125 · v_C = 0.5 · 0.25 + 0.125 · 0.5 = 0.1875
    # R_B = 0.25 · v_C = 0.25 · 0.5 = 0.125 (A is not exposed to B)
    # R_C = 0: no one is exposed to C.
    np.testing.assert_allclose(debtrank(x, equity), [0.1875, 0.125, 0.0])


def test_ring_inactive_stops_the_second_lap():
    x, equity = ring()
    h, state = distress_rounds(x, equity, A, shock=0.5)
    # t=1: h = (0.5, 0, 0)                        s = (D, U, U)
    # t=2: h_B = 0.4 · 0.5 = 0.2                   s = (I, D, U)
    # t=3: h_C = 0.8 · 0.2 = 0.16                  s = (I, I, D)
    # t=4: h_A = 0.5 + 0.5 · 0.16 = 0.58           s = (I, I, I), stop: A is Inactive, so the impact that came
    #      round raises h_A but goes no further.
    np.testing.assert_allclose(h, [[0.5, 0, 0], [0.5, 0.2, 0], [0.5, 0.2, 0.16], [0.58, 0.2, 0.16]])
    np.testing.assert_array_equal(state, [[D, U, U], [I, D, U], [I, I, D], [I, I, I]])
    # R_A = (10 · (0.58 − 0.5) + 20 · 0.2 + 5 · 0.16) / 35 = (0.8 + 4 + 0.8) / 35 = 0.16; the paper's R
    # counts the 0.08 that came back to the seed.
    # R_B: h_C = 0.8 · 0.5 = 0.4, h_A = 0.5 · 0.4 = 0.2, h_B = 0.5 + 0.4 · 0.2 = 0.58
    #      → (10 · 0.2 + 20 · 0.08 + 5 · 0.4) / 35 = 5.6 / 35 = 0.16
    # R_C: h_A = 0.5 · 0.5 = 0.25, h_B = 0.4 · 0.25 = 0.1, h_C = 0.5 + 0.8 · 0.1 = 0.58
    #      → (10 · 0.25 + 20 · 0.1 + 5 · 0.08) / 35 = 4.9 / 35 = 0.14
    np.testing.assert_allclose(debtrank(x, equity, shock=0.5), [0.16, 0.16, 0.14])


def test_ring_default_counts_only_the_others():
    x, equity = ring()
    # Seed A defaults: h_B = 0.4, h_C = 0.8 · 0.4 = 0.32, h_A = min(1, 1 + 0.16) = 1.
    # R_A = (20 · 0.4 + 5 · 0.32) / 35 = 9.6 / 35
    # R_B: h_C = 0.8, h_A = 0.4 → (5 · 0.8 + 10 · 0.4) / 35 = 8 / 35
    # R_C: h_A = 0.5, h_B = 0.2 → (10 · 0.5 + 20 · 0.2) / 35 = 9 / 35
    np.testing.assert_allclose(debtrank(x, equity), np.array([9.6, 8.0, 9.0]) / 35)


def test_firms_distressed_together_pass_on_last_rounds_h():
    # S's default distresses a and b in one round; b is also exposed to a, and z is exposed to b. E = 10 each.
    S, a, b, z = range(4)
    x = np.zeros((4, 4))
    x[a, S] = 5.0  # W[S→a] = 0.5
    x[b, S] = 2.0  # W[S→b] = 0.2
    x[b, a] = 5.0  # W[a→b] = 0.5
    x[z, b] = 10.0  # W[b→z] = 1
    equity = np.full(4, 10.0)
    h, _ = distress_rounds(x, equity, S)
    # t=2: h_a = 0.5, h_b = 0.2, both D.
    # t=3: h_b = 0.2 + 0.5 · 0.5 = 0.45, but b passes on its h(2) = 0.2: h_z = 1 · 0.2 = 0.2.
    #      (Updating h in place while looping over a, then b, as michignolo/DebtRank does: h_z = 0.45.)
    np.testing.assert_allclose(h[-1], [1.0, 0.5, 0.45, 0.2])
    # R_S = (0.5 + 0.45 + 0.2) / 4 = 0.2875
    np.testing.assert_allclose(debtrank(x, equity, seeds=[S]), [0.2875])


def test_firm_no_one_is_exposed_to_has_zero_debtrank():
    # A star: B and C are exposed to A; A and C are exposed to no one else, and no one is exposed to B or C.
    x = np.zeros((3, 3))
    x[B, A] = 2.0  # W[A→B] = 2 / 10 = 0.2
    x[C, A] = 4.0  # W[A→C] = 4 / 10 = 0.4
    equity = np.array([10.0, 10.0, 10.0])
    # R_A = (0.2 + 0.4) / 3 = 0.2;  R_B = R_C = 0.
    np.testing.assert_allclose(debtrank(x, equity), [0.2, 0.0, 0.0])


def test_exposure_above_equity_caps_at_one():
    x = np.zeros((3, 3))
    x[B, A] = 50.0  # 50 / 10 = 5 → W[A→B] = 1
    x[C, B] = 5.0  # W[B→C] = 5 / 10 = 0.5
    equity = np.array([10.0, 10.0, 10.0])
    assert impact_matrix(x, equity)[A, B] == 1.0
    # Default of A: h_B = min(1, 1 · 1) = 1, h_C = 0.5 · 1 = 0.5 → R_A = (1 + 0.5) / 3 = 0.5.
    np.testing.assert_allclose(debtrank(x, equity, seeds=[A]), [0.5])
    # Half-distressed A: h_B = 1 · 0.5 = 0.5 (an uncapped 5 · 0.5 would already be a default),
    # h_C = 0.5 · 0.5 = 0.25 → R_A = (0.5 + 0.25) / 3 = 0.25.
    np.testing.assert_allclose(debtrank(x, equity, seeds=[A], shock=0.5), [0.25])


def test_insolvent_creditor_absorbs_and_passes_on_nothing():
    x, equity = chain()
    equity[B] = 0.0
    # B has no equity left: W[A→B] is 0 instead of 5 / 0, and B starts Inactive with h = 1 in A's run.
    # h stays (1, 1, 0): C, exposed to B, loses nothing from A's default. v = (10, 0, 20) / 30.
    # R_A = 0; R_B = B's own default (h_B = 1 already): h_C = 0.25 → R_B = 0.25 · 20 / 30 = 1/6; R_C = 0.
    np.testing.assert_allclose(debtrank(x, equity), [0.0, 1 / 6, 0.0])
    h, state = distress_rounds(x, equity, A)
    np.testing.assert_allclose(h, [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(state, [[D, I, U], [I, I, U]])
    np.testing.assert_array_equal(impact_matrix(x, equity)[:, B], [0.0, 0.0, 0.0])


def test_insolvent_seed_defaults_whatever_the_shock():
    x, equity = chain()
    equity[B] = -4.0
    # Negative equity is treated like zero: B's equity is gone, so as a seed h_B = 1 even with shock = 0.1,
    # h_C = 0.25 · 1 = 0.25, v_C = 20 / 30 → R_B = 1/6. A solvent seed takes the shock: R_A = 0 (B absorbs
    # nothing), and R_C = 0.
    np.testing.assert_allclose(debtrank(x, equity, shock=0.1), [0.0, 1 / 6, 0.0])
    # And no impact on B is defined: not 5 / |−4|, not 5 / −4.
    np.testing.assert_array_equal(impact_matrix(x, equity)[:, B], [0.0, 0.0, 0.0])


def test_no_value_in_the_system():
    x, _ = chain()
    # Every firm insolvent: Σ max(E, 0) = 0, so no value can be lost anywhere.
    np.testing.assert_array_equal(debtrank(x, np.array([0.0, -1.0, 0.0])), [0.0, 0.0, 0.0])
    # All-zero weights likewise.
    np.testing.assert_array_equal(debtrank(x, chain()[1], value=np.zeros(3)), [0.0, 0.0, 0.0])


def test_value_is_normalised_relative_value():
    x, equity = chain()
    # Equal values v = (1/3, 1/3, 1/3) from weights (7, 7, 7):
    # R_A = (0.5 + 0.125) / 3 = 0.208333…, R_B = 0.25 / 3, R_C = 0.
    np.testing.assert_allclose(debtrank(x, equity, value=[7.0, 7.0, 7.0]), [0.625 / 3, 0.25 / 3, 0.0])


def test_claims_on_oneself_are_ignored():
    x, equity = chain()
    x[A, A] = x[B, B] = x[C, C] = 100.0
    # Same as the plain chain: R = (0.1875, 0.125, 0), and the diagonal of W is zero.
    np.testing.assert_allclose(debtrank(x, equity), [0.1875, 0.125, 0.0])
    np.testing.assert_allclose(debtrank(sp.csr_array(x), equity), [0.1875, 0.125, 0.0])
    assert not np.diag(impact_matrix(x, equity)).any()


def test_zero_shock_loses_nothing():
    x, equity = ring()
    # h_seed = 0 pushes 0 · W = 0 to everyone: R = 0.
    np.testing.assert_array_equal(debtrank(x, equity, shock=0.0), [0.0, 0.0, 0.0])


def test_a_new_link_can_lower_debtrank():
    # The "single hit" of the paper's rule (a firm passes on only the h it has when first distressed), which
    # Bardoscia et al. 2015 remove. S → a → i → z, every claim 10 against equity 10, so every W is 1:
    S, a, i, z = range(4)
    x = np.zeros((4, 4))
    x[a, S] = x[i, a] = x[z, i] = 10.0
    equity = np.full(4, 10.0)
    # Without a link from S to i: h_a = h_i = h_z = 1 in rounds 2, 3, 4 → R_S = 3/4.
    np.testing.assert_allclose(debtrank(x, equity, seeds=[S]), [0.75])
    # i also holds 1 of S's debt (W[S→i] = 0.1): round 2 h_a = 1, h_i = 0.1, both D; round 3 h_i = 1 but i
    # only passes on its 0.1, so h_z = 0.1 → R_S = (1 + 1 + 0.1) / 4 = 0.525.
    x[i, S] = 1.0
    np.testing.assert_allclose(debtrank(x, equity, seeds=[S]), [0.525])


@pytest.mark.parametrize("fmt", [sp.csr_array, sp.coo_array, sp.csc_matrix])
def test_sparse_and_dense_agree(fmt):
    # Hand-checked: the ring gives (9.6, 8, 9) / 35 both ways.
    x, equity = ring()
    np.testing.assert_allclose(debtrank(fmt(x), equity), np.array([9.6, 8.0, 9.0]) / 35)
    # Random networks with claims on oneself and insolvent firms: same numbers up to summation order.
    rng = np.random.default_rng(1)
    for n in (1, 5, 40, 200):
        x, equity = random_network(rng, n, density=min(1.0, 4.0 / n), insolvent=0.1)
        np.testing.assert_allclose(
            impact_matrix(fmt(x), equity).toarray(), impact_matrix(x, equity), rtol=0, atol=0
        )
        for shock in (1.0, 0.3):
            dense = debtrank(x, equity, shock=shock)
            np.testing.assert_allclose(debtrank(fmt(x), equity, shock=shock), dense, rtol=1e-12, atol=1e-15)


def test_repeated_sparse_entries_add_up_before_the_cap():
    # B's claim on A as two loans, 3 + 2 = 5: the plain chain, R = (0.1875, 0.125, 0).
    x = sp.coo_array(([3.0, 2.0, 5.0], ([B, B, C], [A, A, B])), shape=(3, 3))
    equity = chain()[1]
    np.testing.assert_allclose(debtrank(x, equity), [0.1875, 0.125, 0.0])
    # Two loans of 8 against E_B = 10: W[A→B] = min(1, 16 / 10) = 1, not min(1, 0.8) + min(1, 0.8) = 1.6.
    y = sp.coo_array(([8.0, 8.0], ([B, B], [A, A])), shape=(3, 3))
    assert impact_matrix(y, equity)[A, B] == 1.0
    # The caller's matrix is left as it was.
    assert y.nnz == 2


def test_dense_paths_agree(monkeypatch):
    # The full-matrix rounds (small dense) and the live-runs-and-senders rounds (large or sparse) are the same
    # dynamics. Hand-checked first: the chain gives (0.1875, 0.125, 0) on the selective path too.
    monkeypatch.setattr(dr, "DENSE_FULL_MAX", 0)
    np.testing.assert_allclose(debtrank(*chain()), [0.1875, 0.125, 0.0])
    rng = np.random.default_rng(2)
    cases = [random_network(rng, n, density=d, insolvent=0.1) for n, d in ((6, 0.5), (30, 0.1), (30, 0.4))]
    selective = [debtrank(x, e, shock=0.7) for x, e in cases]
    monkeypatch.setattr(dr, "DENSE_FULL_MAX", 10**9)
    for (x, e), expected in zip(cases, selective, strict=True):
        np.testing.assert_allclose(debtrank(x, e, shock=0.7), expected, rtol=1e-12, atol=1e-15)


def test_seed_subset_matches_all_seeds():
    # Hand-checked: seeds [C, A] on the chain give (0, 0.1875).
    np.testing.assert_allclose(debtrank(*chain(), seeds=[C, A]), [0.0, 0.1875])
    rng = np.random.default_rng(3)
    for n in (8, 300):
        x, equity = random_network(rng, n, density=min(1.0, 3.0 / n), insolvent=0.05)
        everyone = debtrank(x, equity)
        # Out of order, repeated, and including insolvent firms.
        seeds = np.concatenate([rng.choice(n, 5, replace=False), [0, 0]])
        np.testing.assert_allclose(debtrank(x, equity, seeds=seeds), everyone[seeds], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(
            debtrank(sp.csr_array(x), equity, seeds=seeds), everyone[seeds], rtol=1e-12, atol=1e-15
        )
    assert debtrank(*chain(), seeds=[]).shape == (0,)
    assert debtrank(*chain(), seeds=[], chunk=2).shape == (0,)


def test_seeds_in_chunks_give_the_same_bits():
    # Hand-checked: the chain in chunks of 2 seeds still gives (0.1875, 0.125, 0).
    np.testing.assert_allclose(debtrank(*chain(), chunk=2), [0.1875, 0.125, 0.0])
    rng = np.random.default_rng(5)
    x, equity = random_network(rng, 300, density=0.01, insolvent=0.05)
    for shock in (1.0, 0.6):
        everyone = debtrank(sp.csr_array(x), equity, shock=shock)
        for chunk in (1, 7, 256, 300, 1000):
            assert np.array_equal(debtrank(sp.csr_array(x), equity, shock=shock, chunk=chunk), everyone)
            # A dense W's rounds are BLAS products, blocked by the number of runs: the same up to rounding.
            np.testing.assert_allclose(
                debtrank(x, equity, shock=shock, chunk=chunk), everyone, rtol=1e-12, atol=1e-15
            )


def test_bad_inputs_are_refused():
    x, equity = chain()
    with pytest.raises(ValueError, match="square"):
        debtrank(np.zeros((2, 3)), equity[:2])
    with pytest.raises(ValueError, match="equity"):
        debtrank(x, equity[:2])
    with pytest.raises(ValueError, match="non-negative"):
        debtrank(-x, equity)
    with pytest.raises(ValueError, match="finite"):
        debtrank(x, np.array([1.0, np.nan, 1.0]))
    with pytest.raises(ValueError, match="shock"):
        debtrank(x, equity, shock=1.5)
    with pytest.raises(ValueError, match="seeds"):
        debtrank(x, equity, seeds=[3])
    with pytest.raises(ValueError, match="seeds"):
        debtrank(x, equity, seeds=[-1])
    with pytest.raises(ValueError, match="value"):
        debtrank(x, equity, value=[1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="chunk"):
        debtrank(x, equity, chunk=0)


# Networks of 1–6 firms; some claims are zero, some equities zero or negative.
claims = st.one_of(st.just(0.0), st.floats(min_value=0.01, max_value=30.0))
capital = st.one_of(st.floats(min_value=0.1, max_value=50.0), st.just(0.0), st.just(-2.0))


@st.composite
def networks(draw):
    n = draw(st.integers(min_value=1, max_value=6))
    return draw(arrays(float, (n, n), elements=claims)), draw(arrays(float, n, elements=capital))


@settings(max_examples=150, deadline=None)
@given(networks(), st.floats(min_value=0.0, max_value=1.0))
def test_debtrank_is_a_share_of_the_rest(network, shock):
    # 0 ≤ R_j ≤ 1 − shock · v_j (the seed starts at h = shock, every h ends ≤ 1); for shock = 1, 1 − v_j.
    # Hand-checked instance: the chain's R_A = 0.1875 ≤ 1 − 0.25.
    x, equity = network
    r = debtrank(x, equity, shock=shock)
    positive = np.maximum(equity, 0.0)
    v = positive / positive.sum() if positive.sum() > 0 else np.zeros_like(positive)
    start = np.where(equity > 0, shock, 1.0)
    assert np.all(r >= 0.0)
    assert np.all(r <= 1.0 - start * v + 1e-12)
    assert np.all(debtrank(x, equity) <= 1.0 - v + 1e-12)


@settings(max_examples=150, deadline=None)
@given(
    networks(), st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.01, max_value=50.0), st.data()
)
def test_debtrank_grows_with_an_existing_exposure(network, shock, extra, data):
    # With the same links, a larger claim means a larger impact, so every h(t) is at least as large and R
    # too; the rounds in which firms are first distressed depend only on which links exist. A *new* link can
    # lower R (test_a_new_link_can_lower_debtrank), so only existing claims grow here.
    # Hand-checked instance: raising B's claim on A in the chain from 5 to 10 raises R_A from 0.1875 to
    # 1 · 0.25 + 0.25 · 1 · 0.5 = 0.375.
    x, equity = network
    links = np.argwhere(x > 0)
    if links.size == 0:
        x = x.copy()
        x[0, -1] = 1.0
        links = np.array([[0, x.shape[0] - 1]])
    i, k = links[data.draw(st.integers(min_value=0, max_value=len(links) - 1))]
    before = debtrank(x, equity, shock=shock)
    more = x.copy()
    more[i, k] += extra
    assert np.all(debtrank(more, equity, shock=shock) >= before - 1e-12)


def test_hand_instance_of_the_growth_property():
    x, equity = chain()
    x[B, A] = 10.0
    # W[A→B] = 1: h_B = 1, h_C = 0.25 → R_A = 0.25 + 0.125 = 0.375 (was 0.1875).
    np.testing.assert_allclose(debtrank(x, equity, seeds=[A]), [0.375])


# -- the sparse runs (_debtrank_sparse) against the dense-state selective rounds they replaced ---------------------
def both_paths(x, equity, seeds=None, shock=1.0):
    """R from the sparse runs and from the reference (the dense-state selective rounds) on the same sparse W."""
    equity = np.asarray(equity, dtype=float)
    w = impact_matrix(sp.csr_array(x), equity)
    seeds = dr._check_seeds(seeds, equity.size)
    v = dr._relative_value(None, equity)
    return dr._debtrank_sparse(w, equity, seeds, v, shock), dr._debtrank_dense(w, equity, seeds, v, shock)


def rounds_of_both_paths(x, equity, seeds, shock):
    """Every round's (h, distressed, inactive) of all runs, from the sparse runs and from the reference."""
    equity = np.asarray(equity, dtype=float)
    w = impact_matrix(sp.csr_array(x), equity)
    seeds = dr._check_seeds(seeds, equity.size)
    sparse, dense = [], []
    dr._propagate_sparse(w, equity, seeds, shock, record=lambda *s: sparse.append([a.copy() for a in s]))
    dr._propagate(
        w, *dr._initial_state(equity, seeds, shock), record=lambda *s: dense.append([a.copy() for a in s])
    )
    return sparse, dense


def hand_networks():
    """The networks of the hand-checked tests above: chain, ring, an insolvent creditor, an insolvent seed, two
    firms distressed together, a star, a capped claim, claims on oneself, the new link that lowers R."""
    x, e = chain()
    yield x, e
    yield ring()
    yield x, np.array([10.0, 0.0, 20.0])
    yield x, np.array([10.0, -4.0, 20.0])
    y = np.zeros((4, 4))
    y[1, 0], y[2, 0], y[2, 1], y[3, 2] = 5.0, 2.0, 5.0, 10.0
    yield y, np.full(4, 10.0)
    star = np.zeros((3, 3))
    star[B, A], star[C, A] = 2.0, 4.0
    yield star, np.full(3, 10.0)
    capped = np.zeros((3, 3))
    capped[B, A], capped[C, B] = 50.0, 5.0
    yield capped, np.full(3, 10.0)
    yield x + 100.0 * np.eye(3), e
    link = np.zeros((4, 4))
    link[1, 0] = link[2, 1] = link[3, 2] = 10.0
    link[2, 0] = 1.0
    yield link, np.full(4, 10.0)


# Every round pair by pair, the default (dense rounds where distress reaches most of the live runs' pairs), every
# round dense.
round_shares = pytest.mark.parametrize("share", [np.inf, dr.PAIRWISE_ROUND_SHARE, 0.0])


@round_shares
def test_sparse_runs_are_bit_identical_on_the_hand_networks(monkeypatch, share):
    monkeypatch.setattr(dr, "PAIRWISE_ROUND_SHARE", share)
    # Hand-checked first, on the sparse runs: the chain (0.1875, 0.125, 0), the ring at shock 0.5 (0.16, 0.16,
    # 0.14), the insolvent creditor (0, 1/6, 0).
    np.testing.assert_allclose(both_paths(*chain())[0], [0.1875, 0.125, 0.0])
    np.testing.assert_allclose(both_paths(*ring(), shock=0.5)[0], [0.16, 0.16, 0.14])
    np.testing.assert_allclose(both_paths(chain()[0], [10.0, 0.0, 20.0])[0], [0.0, 1 / 6, 0.0])
    for x, equity in hand_networks():
        n = equity.size
        for shock in (1.0, 0.5, 0.3, 0.0):
            for seeds in (None, [n - 1, 0, 0]):
                new, reference = both_paths(x, equity, seeds, shock)
                assert np.array_equal(new, reference)
                sparse, dense = rounds_of_both_paths(x, equity, seeds, shock)
                assert len(sparse) == len(dense)
                for s, d in zip(sparse, dense, strict=True):
                    assert all(np.array_equal(a, b) for a, b in zip(s, d, strict=True))


def test_distress_rounds_on_sparse_exposures():
    # The chain round by round, as in test_chain_round_by_round, from the sparse runs.
    h, state = distress_rounds(sp.csr_array(chain()[0]), chain()[1], A)
    np.testing.assert_array_equal(h, [[1, 0, 0], [1, 0.5, 0], [1, 0.5, 0.125], [1, 0.5, 0.125]])
    np.testing.assert_array_equal(state, [[D, U, U], [I, D, U], [I, I, D], [I, I, I]])
    # The insolvent creditor: B starts Inactive with h = 1.
    h, state = distress_rounds(sp.csr_array(chain()[0]), np.array([10.0, 0.0, 20.0]), A)
    np.testing.assert_array_equal(h, [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(state, [[D, I, U], [I, I, U]])
    rng = np.random.default_rng(7)
    x, equity = random_network(rng, 60, density=0.08, insolvent=0.1)
    for seed in (0, 17, 59):
        for shock in (1.0, 0.4):
            sparse, dense = (
                distress_rounds(sp.csr_array(x), equity, seed, shock=shock),
                distress_rounds(x, equity, seed, shock=shock),
            )
            np.testing.assert_allclose(sparse[0], dense[0], rtol=1e-12, atol=1e-15)
            np.testing.assert_array_equal(sparse[1], dense[1])


def sparse_network(rng, n, claims=4.0, hubs=0.01, insolvent=0.05, ring=False):
    """A random sparse exposure network: ``claims · n`` claims between random firms; a share ``hubs`` of the
    firms (large equity) is owed by a fifth of all firms (300 at most), so one pair takes many pushes in one
    round; a share ``insolvent`` has equity 0 or below; ``ring`` adds the cycle 0 → 1 → … → n − 1 → 0. With 4
    claims a firm distress reaches nearly every firm, with fewer than 1 a few."""
    debtor = rng.integers(0, n, round(claims * n))
    creditor = rng.integers(0, n, debtor.size)
    hub = np.flatnonzero(rng.random(n) < hubs)
    owed_by = min(n // 5, 300)
    debtor = np.concatenate([debtor, rng.choice(n, (hub.size, owed_by)).ravel()])
    creditor = np.concatenate([creditor, np.repeat(hub, owed_by)])
    if ring:
        debtor, creditor = (
            np.concatenate([debtor, np.arange(n)]),
            np.concatenate([creditor, (np.arange(n) + 1) % n]),
        )
    amount = rng.uniform(0.1, 10.0, debtor.size)
    equity = rng.uniform(5.0, 40.0, n)
    equity[hub] = rng.uniform(50.0, 400.0, hub.size)
    equity[rng.random(n) < insolvent] = rng.choice([0.0, -3.0])
    return sp.coo_array((amount, (creditor, debtor)), shape=(n, n)), equity


@pytest.mark.parametrize(
    ("n", "claims", "seeds", "ring"),
    [(1000, 4.0, None, False), (1000, 4.0, slice(0, 300), True), (10000, 0.6, slice(3000, 3256), False)],
)
@round_shares
def test_sparse_runs_are_bit_identical_on_random_networks(monkeypatch, share, n, claims, seeds, ring):
    monkeypatch.setattr(dr, "PAIRWISE_ROUND_SHARE", share)
    # Hubs make pairs that take up to ~100 pushes in one round, added in increasing sender order (in the other
    # order some 2% of the 1,000-firm case's pushed pairs differ in the last bits); insolvent firms are the
    # shared base state; the ring sends distress round the whole cycle back to the seed (shock < 1).
    rng = np.random.default_rng(n + ring)
    x, equity = sparse_network(rng, n, claims, ring=ring)
    seeds = None if seeds is None else np.arange(n)[seeds]
    for shock in (1.0, 0.35):
        new, reference = both_paths(x, equity, seeds, shock)
        assert (new > 0).sum() > 0.5 * new.size
        assert np.array_equal(new, reference)
