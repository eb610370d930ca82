"""Firth-penalised logistic regression and a separation check, in numpy and SciPy.

See ``docs/methods.md#firth-logistic-regression``:

* :func:`firth_fit` maximises the Jeffreys-penalised log-likelihood
  ℓ*(β) = ℓ(β) + ½ log det I(β), I(β) = XᵀWX (Firth 1993), by Newton–Raphson on the
  modified score U*(β) = Xᵀ(y − p + h(½ − p)) with the Fisher information as the step's
  matrix, at most 5 per coordinate per step and step-halving while ℓ* does not increase
  (Heinze & Schemper 2002, as in R's logistf). It returns the estimates, standard errors
  from I(β̂)⁻¹ (as logistf; firthmodels inverts XᵀW(1 + h)X instead), penalised
  likelihood-ratio p-values (each term refitted with its coefficient fixed at 0, the
  penalty still that of the full design) and profile penalised-likelihood intervals
  (the two roots of max ℓ*(β | βⱼ = b) = ℓ*(β̂) − χ²₁(level)/2, found by Brent's
  method).
* :func:`infinite_ml` tells which ordinary maximum-likelihood estimates are infinite
  (complete or quasi-complete separation) with Konis's (2007) linear programme: maximise
  Σᵢ x̄ᵢᵀβ subject to x̄ᵢᵀβ ≥ 0 and −1 ≤ β ≤ 1, where x̄ᵢ = (2yᵢ − 1)xᵢ; a coefficient
  that is non-zero at the optimum has an infinite ML estimate.

The design ``X`` is given whole (an intercept, if wanted, is one of its columns). SciPy is
imported on use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compendium.errors import ParameterError

__all__ = ["FirthFit", "firth_fit", "infinite_ml", "penalised_loglik"]

MAX_STEP = 5.0
MAX_HALVING = 25
TOL = 1e-10


@dataclass(frozen=True)
class FirthFit:
    """Per-column results of :func:`firth_fit` (arrays in the order of the design's columns).

    ``p_lrt`` is NaN where the constrained fit did not converge (``p_wald`` is then the
    fallback); ``ci_low``/``ci_high`` are NaN where a bound could not be found.
    """

    coef: np.ndarray
    se: np.ndarray
    p_wald: np.ndarray
    p_lrt: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    loglik: float
    converged: bool


def _quantities(X: np.ndarray, y: np.ndarray, beta: np.ndarray
                ) -> tuple[float, np.ndarray, np.ndarray]:
    """Penalised log-likelihood, modified score and Fisher information at ``beta``.

    The log-likelihood is −inf where I(β) is numerically singular (a step-halving then
    rejects the step).
    """
    eta = X @ beta
    p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # the logistic function, without overflow
    w = p * (1.0 - p)
    xw = X * np.sqrt(w)[:, None]
    info = xw.T @ xw
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return -np.inf, np.zeros(X.shape[1]), info
    diag = np.diag(chol)
    if diag.min() <= np.sqrt(max(X.shape) * np.finfo(float).eps) * diag.max():
        return -np.inf, np.zeros(X.shape[1]), info
    half = np.linalg.solve(chol, xw.T)  # L⁻¹ (W½X)ᵀ: the hat diagonal is its column norms
    h = np.einsum("ij,ij->j", half, half)
    loglik = float(np.sum(y * eta - np.logaddexp(0.0, eta)) + np.sum(np.log(diag)))
    score = X.T @ (y - p + h * (0.5 - p))
    return loglik, score, info


def penalised_loglik(X: np.ndarray, y: np.ndarray, beta: np.ndarray) -> float:
    """ℓ(β) + ½ log det XᵀW(β)X, the function :func:`firth_fit` maximises."""
    return _quantities(np.asarray(X, float), np.asarray(y, float), np.asarray(beta, float))[0]


def _newton(X: np.ndarray, y: np.ndarray, beta: np.ndarray, fixed: int | None = None,
            max_iter: int = 200) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """Maximise ℓ* over every coefficient but ``fixed`` (held at its value in ``beta``).

    Returns ``(beta, loglik, fisher_info, converged)``.
    """
    free = np.array([i for i in range(X.shape[1]) if i != fixed], dtype=int)
    beta = beta.astype(float).copy()
    loglik, score, info = _quantities(X, y, beta)
    if not np.isfinite(loglik):
        return beta, loglik, info, False
    for _ in range(max_iter):
        sub = info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(sub, score[free])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(sub, score[free], rcond=None)[0]
        size = np.abs(step).max() if len(step) else 0.0
        if size <= TOL or (len(step) and np.abs(score[free]).max() <= TOL):
            return beta, loglik, info, True
        if size > MAX_STEP:
            step *= MAX_STEP / size
        factor = 1.0
        for _ in range(MAX_HALVING + 1):
            trial = beta.copy()
            trial[free] += factor * step
            new = _quantities(X, y, trial)
            # near the optimum ℓ* is flat to rounding: a tiny step is taken as it is
            if new[0] >= loglik or (size < 1e-6 and np.isfinite(new[0])):
                break
            factor /= 2
        else:
            return beta, loglik, info, False
        beta, (loglik, score, info) = trial, new
    return beta, loglik, info, False


def _profile_bound(X: np.ndarray, y: np.ndarray, beta: np.ndarray, se: float, j: int,
                   target: float, side: int) -> float:
    """The bound of coefficient ``j`` on ``side`` (−1 lower, +1 upper) where the profile
    penalised log-likelihood falls to ``target``; NaN if none is found within |b| ≤ 1000."""
    from scipy.optimize import brentq

    start = beta.copy()

    def gap(b: float) -> float:
        nonlocal start
        trial = start.copy()
        trial[j] = b
        fit, loglik, _, ok = _newton(X, y, trial, fixed=j)
        if not ok:
            raise ArithmeticError
        start = fit
        return loglik - target

    width = se if np.isfinite(se) and se > 0 else 1.0
    inner = float(beta[j])
    try:
        while True:
            outer = float(beta[j]) + side * width
            if abs(outer) > 1000:
                return float("nan")
            if gap(outer) < 0:
                break
            inner, width = outer, 2 * width
        return float(brentq(gap, min(inner, outer), max(inner, outer), xtol=TOL, rtol=1e-14,
                            maxiter=200))
    except ArithmeticError:
        return float("nan")


def firth_fit(X: np.ndarray, y: np.ndarray, *, level: float = 0.95) -> FirthFit:
    """Fit Firth's logistic regression of 0/1 ``y`` on the design ``X`` (see module doc)."""
    from scipy import stats as sps

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = X.shape
    if k > n:
        raise ParameterError("predictors", f"{k} coefficients for {n} rows")
    beta, loglik, info, converged = _newton(X, y, np.zeros(k))
    try:
        cov = np.linalg.inv(info)
        se = np.sqrt(np.diag(cov))
    except np.linalg.LinAlgError:
        cov, se = None, np.full(k, np.nan)
    p_wald = 2 * sps.norm.sf(np.abs(beta / se))
    p_lrt = np.full(k, np.nan)
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    if converged:
        crit = float(sps.chi2.ppf(level, 1))
        for j in range(k):
            # start the constrained fit where the quadratic approximation puts it
            start = beta.copy()
            if cov is not None and cov[j, j] > 0:
                start -= beta[j] * cov[:, j] / cov[j, j]
            start[j] = 0.0
            _, loglik0, _, ok = _newton(X, y, start, fixed=j)
            if ok:
                p_lrt[j] = sps.chi2.sf(max(0.0, 2 * (loglik - loglik0)), 1)
            low[j] = _profile_bound(X, y, beta, se[j], j, loglik - crit / 2, -1)
            high[j] = _profile_bound(X, y, beta, se[j], j, loglik - crit / 2, +1)
    return FirthFit(coef=beta, se=se, p_wald=p_wald, p_lrt=p_lrt, ci_low=low, ci_high=high,
                    loglik=loglik, converged=converged)


def infinite_ml(X: np.ndarray, y: np.ndarray, *, names: list[str] | None = None,
                tol: float = 1e-4) -> np.ndarray:
    """True for each column whose ordinary ML estimate is infinite (Konis 2007, see above).

    ``X`` must have full column rank (else the per-coefficient reading is undefined and a
    :class:`ParameterError` names the aliased columns).
    """
    from scipy.linalg import qr
    from scipy.optimize import linprog

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    names = names or [f"x{i}" for i in range(X.shape[1])]
    r, piv = qr(X, mode="r", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int(np.sum(d > max(X.shape) * np.finfo(float).eps * d[0]))
    if rank < X.shape[1]:
        aliased = ", ".join(names[j] for j in sorted(piv[rank:]))
        raise ParameterError("predictors", f"the design is collinear (aliased: {aliased})")
    xbar = X * (2 * y - 1)[:, None]
    res = linprog(-xbar.sum(axis=0), A_ub=-xbar, b_ub=np.zeros(len(y)),
                  bounds=[(-1.0, 1.0)] * X.shape[1], method="highs")
    if not res.success:
        raise ArithmeticError(f"separation check: the linear programme failed ({res.message})")
    return np.abs(res.x) > tol
