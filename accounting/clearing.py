"""Network clearing: Eisenberg–Noe (2001) with Rogers–Veraart (2013) default costs.

Firm i owes firm j the nominal amount L_ij (rows are debtors) and owes outside creditors ext_i, pari passu.
Its total obligation is p̄_i = Σ_j L_ij + ext_i, and every creditor is paid the same fraction r_i = p_i / p̄_i
of its claim. A firm is solvent if its external assets e_i plus what it receives, Σ_j r_j L_ji, cover p̄_i.
A solvent firm pays p̄_i in full; a defaulting firm pays α e_i + β Σ_j r_j L_ji (α, β ∈ [0, 1] are the
shares of external assets and of interbank claims a defaulter realises; α = β = 1 is Eisenberg–Noe).

:func:`clear` returns the greatest clearing vector, computed exactly (a finite sequence of linear solves, not
an iteration to convergence) by the Greatest Clearing Vector Algorithm of Rogers & Veraart (2013), which for
α = β = 1 is Eisenberg & Noe's fictitious default algorithm. The equations are documented in docs/ODD.md,
section "Submodel: settlement and clearing".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["SOLVENCY_RTOL", "ClearingResult", "clear"]

# A firm is insolvent only if its assets fall short of its obligations by more than this relative margin,
# so that a firm that is exactly solvent is not pushed into default by rounding.
SOLVENCY_RTOL = 1e-12

# Sparse LU of a random, well-connected network fills in almost completely (10,000 defaulters with ten
# creditors each take minutes), so systems larger than this are solved with GMRES. Its residual floors at
# about 1e-13 relative in double precision when D is nearly closed, so ask for 1e-12, reached in milliseconds.
_DIRECT_SOLVE_MAX = 1000
_KRYLOV_RTOL = 1e-12
_FALLBACK_MAX_SWEEPS = 100_000


@dataclass(frozen=True, eq=False)
class ClearingResult:
    """Outcome of :func:`clear`. Arrays are read-only and indexed by firm.

    Attributes:
        payments: p*, the total each firm pays to all its creditors (interbank and external).
        defaulted: True for firms that cannot pay their obligations in full.
        rounds: the firms that defaulted in round 1, round 2, ... of the algorithm (int index arrays).
            Round 1 firms fail even if everyone else pays in full; later rounds are contagion.
        obligations: p̄, what each firm owes in total.
        recovery_rate: p*/p̄, the fraction of each claim on the firm that is paid (1 where p̄ = 0).
        external_liabilities: what each firm owes to creditors outside the network.
    """

    payments: np.ndarray
    defaulted: np.ndarray
    rounds: tuple[np.ndarray, ...]
    obligations: np.ndarray
    recovery_rate: np.ndarray
    external_liabilities: np.ndarray
    _liabilities: np.ndarray | sp.csr_array | sp.csr_matrix = field(repr=False)

    @property
    def shortfall(self) -> np.ndarray:
        """p̄ − p*: what each firm fails to pay."""
        return self.obligations - self.payments

    @property
    def paid_to_external(self) -> np.ndarray:
        """What each firm pays its outside creditors: ext_i · p*_i / p̄_i."""
        return self.external_liabilities * self.recovery_rate

    @property
    def payment_matrix(self) -> np.ndarray | sp.csr_array | sp.csr_matrix:
        """Realised bilateral payments r_i · L_ij (pro rata), in the format of the input liabilities."""
        L = self._liabilities
        if sp.issparse(L):
            # Scale each stored entry by its row's recovery rate; keeps the sparsity pattern (and its type).
            out = L.copy()
            out.data = out.data * np.repeat(self.recovery_rate, np.diff(out.indptr))
            return out
        return L * self.recovery_rate[:, None]


def clear(
    liabilities,
    external_assets,
    *,
    external_liabilities=None,
    alpha: float = 1.0,
    beta: float = 1.0,
) -> ClearingResult:
    """Clear a network of obligations and return the greatest clearing vector.

    Args:
        liabilities: n×n nonnegative matrix (numpy array or scipy.sparse), ``liabilities[i, j]`` is what
            firm i owes firm j. The diagonal must be zero.
        external_assets: length-n nonnegative assets held outside the network (e).
        external_liabilities: optional length-n nonnegative debts to outside creditors, ranking pari passu
            with interbank debts.
        alpha: share of external assets a defaulting firm realises, in [0, 1].
        beta: share of its interbank claims a defaulting firm realises, in [0, 1].

    Algorithm (Rogers & Veraart 2013, GA): start with no defaulters, everybody paying in full. In each round,
    mark as defaulted every firm whose assets fall short under the current payments; then solve for payments
    with that default set fixed, i.e. non-defaulters pay p̄ and defaulters D pay p_D satisfying

        (I − β Π_DDᵀ) p_D = α e_D + β Σ_{j∉D} Π_jD p̄_j,      Π_ij = L_ij / p̄_i.

    Payments only fall from round to round, so the default set only grows; when it stops growing the payments
    are the greatest clearing vector. At most n rounds.

    Singular systems: I − β Π_DDᵀ is singular only if β = 1 and D contains a closed set C of firms that owe
    everything they owe to each other. That cannot happen in exact arithmetic: if C' ⊂ C are the members
    already in default, the solvency margins of the others, C ∖ C', sum to e_{C∖C'} + α e_{C'} + (payments
    into C from outside C) ≥ 0, so at least one of them stays solvent and C never defaults as a whole. If
    rounding nevertheless yields a singular or inconsistent system (the solve fails, or its answer is not
    finite, is negative or exceeds the previous round's payments), that round instead iterates the monotone
    map p_D ↦ min(p_D^prev, α e_D + β (Πᵀp)_D) downward from the previous payments, which converges to the
    greatest solution below them.

    Precision: default sets of up to 1000 firms are solved by sparse LU (exact up to rounding); larger ones by
    GMRES to a relative residual of 1e-12, because LU fill-in on large random networks is prohibitive.
    """
    L, e, ext, alpha, beta = _validate(liabilities, external_assets, external_liabilities, alpha, beta)
    n = L.shape[0]

    LT = L.T.tocsr()  # inflow_i = Σ_j L_ji r_j = (Lᵀ r)_i
    obligations = np.asarray(L.sum(axis=1)).ravel() + ext
    owes = obligations > 0
    inv_obl = np.divide(1.0, obligations, out=np.zeros(n), where=owes)
    # Πᵀ as (row, col, value) triplets: L_ij becomes entry (j, i) with value L_ij / p̄_i. Triplets let each
    # round cut out its default set's block cheaply, which matters for the many small networks a run clears.
    coo = L.tocoo()
    pit = (coo.col, coo.row, coo.data * inv_obl[coo.row])

    # Work with recovery rates r = p/p̄: solvent firms have r = 1 exactly, so the first round's inflows are
    # exact sums of nominal claims, and an exactly solvent firm is not tipped over by rounding in Π_ij p̄_i.
    r = np.ones(n)
    defaulted = np.zeros(n, dtype=bool)
    rounds: list[np.ndarray] = []
    while True:
        assets = e + LT @ r
        margin = SOLVENCY_RTOL * (assets + obligations)
        new = owes & ~defaulted & (assets < obligations - margin)
        if not new.any():
            break
        rounds.append(np.flatnonzero(new))
        defaulted |= new
        r = _solve_round(LT, pit, e, obligations, r, defaulted, alpha, beta)

    sparse_in = sp.issparse(liabilities)
    if sparse_in and not isinstance(liabilities, sp.sparray):
        L = sp.csr_matrix(L)  # keep the caller's sparse flavour (matrix vs array)
    payments = r * obligations
    arrays = [payments, defaulted, obligations, r, ext, *rounds]
    if not sparse_in:
        L = L.toarray()
        arrays.append(L)
    else:
        arrays += [L.data, L.indices, L.indptr]
    for a in arrays:
        a.setflags(write=False)
    return ClearingResult(
        payments=payments,
        defaulted=defaulted,
        rounds=tuple(rounds),
        obligations=obligations,
        recovery_rate=r,
        external_liabilities=ext,
        _liabilities=L,
    )


def _solve_round(LT, pit, e, obligations, r_prev, defaulted, alpha, beta) -> np.ndarray:
    """Recovery rates when the firms in ``defaulted`` default and all others pay in full."""
    idx = np.flatnonzero(defaulted)
    k = len(idx)
    obl_D = obligations[idx]
    p_prev = r_prev[idx] * obl_D
    # Right-hand side: defaulters' realised external assets plus the (full) payments of non-defaulters.
    rhs = alpha * e[idx] + beta * (LT @ (~defaulted).astype(float))[idx]
    # A = I − β Π_DDᵀ, assembled from the triplets inside D (Π has a zero diagonal, so no duplicates).
    rows, cols, vals = pit
    inside = defaulted[rows] & defaulted[cols]
    pos = np.cumsum(defaulted) - 1  # firm index -> position within D
    diag = np.arange(k)
    A = sp.csc_array(
        (
            np.concatenate([np.ones(k), -beta * vals[inside]]),
            (np.concatenate([diag, pos[rows[inside]]]), np.concatenate([diag, pos[cols[inside]]])),
        ),
        shape=(k, k),
    )

    p = _linear_solve(A, rhs, p_prev)
    # Accept the solution only if it solves the system and is consistent with the theory: payments are
    # nonnegative and no higher than in the previous round. Otherwise the system is (numerically) singular.
    scale = max(float(np.max(p_prev, initial=0.0)), float(np.max(rhs, initial=0.0)))
    tol = 1e-9 * scale
    ok = (
        p is not None
        and np.all(np.isfinite(p))
        and np.all(p >= -tol)
        and np.all(p <= p_prev + tol)
        and np.max(np.abs(A @ p - rhs), initial=0.0) <= 1e-10 * scale
    )
    if not ok:
        p = _greatest_fixed_point(A, rhs, p_prev)

    r = r_prev.copy()
    r[idx] = np.clip(p / obl_D, 0.0, 1.0)
    return r


def _linear_solve(A, rhs, x0) -> np.ndarray | None:
    """Solve A x = rhs: sparse LU when small, GMRES otherwise. None if the factorisation fails.

    GMRES's answer is returned even if it stopped short of its tolerance; the caller checks the residual.
    """
    if A.shape[0] <= _DIRECT_SOLVE_MAX:
        try:
            return spla.splu(A).solve(rhs)
        except RuntimeError:  # "Factor is exactly singular"
            return None
    # A = I − βΠ_DDᵀ has unit diagonal and column sums of |off-diagonal| ≤ 1, so Krylov methods converge
    # quickly unless D is nearly closed; the previous round's payments are a good starting point.
    x, _ = spla.gmres(A, rhs, x0=x0, rtol=_KRYLOV_RTOL, atol=0.0, restart=50, maxiter=40)
    return x


def _greatest_fixed_point(A, rhs, p_prev) -> np.ndarray:
    """Greatest p ≤ p_prev with p = min(p_prev, rhs + B p), B = I − A = β Π_DDᵀ, iterating down from p_prev.

    The map is monotone and maps [0, p_prev] into itself, so the iterates decrease to its greatest fixed
    point.
    """
    p = p_prev.copy()
    stop = 1e-15 * float(np.max(p_prev, initial=0.0))
    for _ in range(_FALLBACK_MAX_SWEEPS):
        nxt = np.minimum(p_prev, rhs + p - A @ p)
        if np.max(np.abs(nxt - p), initial=0.0) <= stop:
            return nxt
        p = nxt
    warnings.warn(
        "clearing: fixed-point iteration for a (numerically) singular default set did not converge; "
        "payments are slightly above the greatest clearing vector",
        RuntimeWarning,
        stacklevel=3,
    )
    return p


def _validate(liabilities, external_assets, external_liabilities, alpha, beta):
    """Check and convert the inputs; raise ValueError naming the offending argument."""
    if sp.issparse(liabilities):
        shape = liabilities.shape
    else:
        try:
            liabilities = np.array(liabilities, dtype=float)
        except (TypeError, ValueError) as exc:
            kind = type(liabilities).__name__
            raise ValueError(f"liabilities must be a numeric n×n matrix; got a {kind}") from exc
        shape = liabilities.shape
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"liabilities must be a square n×n matrix; got shape {shape}")
    L = sp.csr_array(liabilities, dtype=float, copy=True)  # NaN and inf are nonzero, so they are kept
    L.sum_duplicates()
    L.eliminate_zeros()
    coo = L.tocoo()
    for bad, allowed in (
        (~np.isfinite(coo.data), "finite"),
        (coo.data < 0, "nonnegative"),
        (coo.row == coo.col, "zero on the diagonal (no firm owes itself)"),
    ):
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            value, i, j = float(coo.data[k]), int(coo.row[k]), int(coo.col[k])
            raise ValueError(f"liabilities must be {allowed}; found {value!r} at [{i}, {j}]")

    n = shape[0]
    e = _vector("external_assets", external_assets, n)
    if external_liabilities is None:
        ext = np.zeros(n)
    else:
        ext = _vector("external_liabilities", external_liabilities, n)
    return L, e, ext, _share("alpha", alpha), _share("beta", beta)


def _vector(name: str, value, n: int) -> np.ndarray:
    try:
        v = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric vector of length n={n}; got {value!r}") from exc
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape (n,) = ({n},), one entry per firm; got shape {v.shape}")
    for bad, allowed in ((~np.isfinite(v), "finite"), (v < 0, "nonnegative")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} must be {allowed}; found {float(v[i])!r} at index {i}")
    return v


def _share(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number in [0, 1]; got {value!r}") from exc
    if not 0.0 <= x <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    return x
