"""Numerical core of the marketing-mix model (private).

Model, for week *t* and channel *c*:

.. math::

    y_t = F_t^\\top \\gamma + \\sum_c \\beta_c \\, h_c\\big(a_c(x_{c})\\big)_t + \\varepsilon_t,
    \\qquad \\beta_c \\ge 0,

with :math:`F` the base design (intercept, trend, Fourier terms, controls), :math:`a_c` the
adstock and :math:`h_c` the saturation of channel *c* with transformation parameters
:math:`\\theta_c`. For fixed :math:`\\theta` the coefficients solve the constrained ridge
problem

.. math::

    \\min_{\\gamma,\\ \\beta \\ge 0}\\ \\lVert y - F\\gamma - H_\\theta \\beta\\rVert^2
    + n\\lambda \\sum_c (\\beta_c\\, \\mathrm{sd}(h_c))^2
    + \\sum_k \\Big(\\frac{\\hat\\sigma}{se_k}\\Big)^2 (g_{k}(\\theta)\\beta_{c_k} - L_k)^2,

the last term pulling the model's incremental effect of channel :math:`c_k` over the window of
experiment *k* toward the measured lift :math:`L_k` (a Gaussian likelihood term for the
experiment, i.e. a prior on that effect). :math:`\\gamma` is free and unpenalised, so it is
profiled out with the projection :math:`M = I - F(F^\\top F)^{-1}F^\\top`
(Frisch–Waugh–Lovell), and :math:`\\beta` solves a non-negative least-squares problem on the
augmented system (Lawson & Hanson 1974, ``scipy.optimize.nnls``).

The transformation parameters are searched on the unit cube :math:`u \\in [0, 1]^{C \\times P}`
mapped linearly or log-linearly onto their bounds. The profiled objective
:math:`J(\\theta) = \\min_\\beta \\Phi(\\beta, \\theta)` has gradient
:math:`\\partial \\Phi / \\partial \\theta` at :math:`\\hat\\beta(\\theta)` (envelope theorem),
whose column derivatives are taken by central differences, all channels at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from researchkit.channels.mmm.adstock import adstock_weights

ADSTOCK_PARAMS = {"geometric": ("alpha",), "weibull_cdf": ("shape", "scale"),
                  "weibull_pdf": ("shape", "scale")}
SATURATION_PARAMS = {"hill": ("half", "slope"), "logistic": ("lam",)}

#: Default search bounds: (low, high, log-scale?). ``half`` and ``lam`` are relative to the
#: channel's mean spend in weeks with spend (half = multiple of it; lam = multiple of 1/it).
DEFAULT_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "alpha": (0.0, 0.9, False),
    "shape": (0.3, 5.0, True),
    "scale": (0.3, 10.0, True),
    "half": (0.2, 5.0, True),
    "slope": (1.0, 3.0, False),
    "lam": (0.1, 10.0, True),
}
RELATIVE_PARAMS = ("half", "lam")


def _media_cov(H: np.ndarray, dH: np.ndarray) -> np.ndarray:
    """Covariance over time of each media column with its derivatives: ``cov(h_c, ∂h_c/∂u_p)``
    (C × P), the derivative of the ridge term's column variance up to a factor 2."""
    Hc = H - H.mean(axis=0)
    return np.einsum("tc,tcp->cp", Hc, dH - dH.mean(axis=0)) / H.shape[0]


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run BLAS on one thread: the model's matrices are tiny, and a multi-threaded BLAS spends
    far longer synchronising threads than computing (tens of times slower on a busy machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def with_single_thread_blas(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: run ``func`` inside :func:`single_thread_blas`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_thread_blas():
            return func(*args, **kwargs)

    return wrapper


def latin_hypercube(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a Latin hypercube in :math:`[0, 1]^d` (McKay, Beckman & Conover 1979):
    each coordinate has exactly one point in each of the ``n`` equal strata."""
    strata = np.argsort(rng.random((d, n)), axis=1).T  # a random permutation per dimension
    return (strata + rng.random((n, d))) / n


@dataclass
class Transform:
    """Adstock + saturation of every channel, parametrised on the unit cube."""

    adstock: str
    saturation: str
    l_max: int
    ref: np.ndarray  # (C,) mean spend in weeks with spend
    lo: np.ndarray  # (C, P)
    hi: np.ndarray  # (C, P)
    log: np.ndarray  # (P,) bool
    names: tuple[str, ...] = field(default=())

    @property
    def n_channels(self) -> int:
        return self.lo.shape[0]

    def natural(self, u: np.ndarray) -> np.ndarray:
        """Unit-cube point (C, P) -> parameters in search units (relative half/lam)."""
        lo, hi = self.lo, self.hi
        with np.errstate(divide="ignore", invalid="ignore"):
            logged = np.exp(np.log(np.where(lo > 0, lo, 1.0))
                            + u * (np.log(np.where(hi > 0, hi, 1.0))
                                   - np.log(np.where(lo > 0, lo, 1.0))))
        return np.where(self.log[None, :], logged, lo + u * (hi - lo))

    def to_unit(self, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`natural` (degenerate bounds map to 0)."""
        lo, hi = self.lo, self.hi
        span_lin = np.where(hi > lo, hi - lo, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            span_log = np.where(hi > lo, np.log(hi) - np.log(lo), 1.0)
            u_log = (np.log(theta) - np.log(lo)) / span_log
        u = np.where(self.log[None, :], u_log, (theta - lo) / span_lin)
        return np.clip(np.where(hi > lo, u, 0.0), 0.0, 1.0)

    def param_dict(self, theta: np.ndarray, idx: np.ndarray | None = None) -> dict:
        """Parameter arrays in the units the transforms take (absolute half, lam)."""
        idx = np.arange(self.n_channels) if idx is None else idx
        out = {}
        for j, name in enumerate(self.names):
            value = theta[idx, j]
            if name == "half":
                value = value * self.ref[idx]
            elif name == "lam":
                value = value / self.ref[idx]
            out[name] = value
        return out

    def columns(self, X: np.ndarray, theta: np.ndarray,
                idx: np.ndarray | None = None) -> np.ndarray:
        """Transformed media columns h(a(X)); column j uses the parameters of channel idx[j]."""
        return self.jacobian(X, theta, idx, derivatives=False)[0]

    # -- fast transforms with derivatives (inputs are trusted: checked once by the caller) --
    def jacobian(self, X: np.ndarray, theta: np.ndarray, idx: np.ndarray | None = None,
                 derivatives: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Media columns H (T, J) and their derivatives dH (T, J, P) on the unit cube.

        Column j of ``X`` uses the parameters of channel ``idx[j]``; derivative ``[:, j, p]``
        is with respect to the unit-cube coordinate of parameter ``p`` of that channel.
        """
        idx = np.arange(self.n_channels) if idx is None else np.asarray(idx)
        params = self.param_dict(theta, idx)
        a, da = _adstock_jac(X, self.adstock, params, self.l_max, derivatives)
        a = np.maximum(a, 0.0)
        h, dh_da, dh_dp = _saturation_jac(a, self.saturation, params, derivatives)
        if not derivatives:
            return h, None
        # chain rule to the unit cube: d theta / d u, then relative -> absolute units
        theta_c = theta[idx]
        lo, hi = self.lo[idx], self.hi[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_span = np.where(hi > lo, np.log(np.where(hi > 0, hi, 1.0))
                                - np.log(np.where(lo > 0, lo, 1.0)), 0.0)
        dtheta_du = np.where(self.log[None, :], theta_c * log_span, hi - lo)
        dH = np.zeros((*h.shape, len(self.names)))
        for p, name in enumerate(self.names):
            unit = dtheta_du[:, p]
            if name == "half":
                unit = unit * self.ref[idx]
            elif name == "lam":
                unit = unit / self.ref[idx]
            if name in da:
                dH[:, :, p] = dh_da * da[name] * unit[None, :]
            else:
                dH[:, :, p] = dh_dp[name] * unit[None, :]
        return h, dH


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(first index, member columns) for each distinct row of ``keys``."""
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    return [(int(f), np.flatnonzero(inverse == g)) for g, f in enumerate(first)]


def _adstock_jac(X: np.ndarray, kind: str, params: dict, l_max: int, derivatives: bool
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Adstocked spend and its derivatives with respect to the adstock parameters."""
    from scipy.signal import lfilter

    a = np.empty_like(X)
    da: dict[str, np.ndarray] = {}
    if kind == "geometric":
        alpha = params["alpha"]
        if derivatives:
            da["alpha"] = np.empty_like(X)
        for first, cols in _groups(alpha[:, None]):
            al = float(alpha[first])
            z = lfilter([1.0], [1.0, -al], X[:, cols], axis=0)
            a[:, cols] = (1.0 - al) * z
            if derivatives:
                # d/d alpha of (1 - alpha) / (1 - alpha q) applied to x
                dz = lfilter([0.0, 1.0], [1.0, -2.0 * al, al * al], X[:, cols], axis=0)
                da["alpha"][:, cols] = -z + (1.0 - al) * dz
        return a, da
    sub = kind[len("weibull_"):]
    shape, scale = params["shape"], params["scale"]
    if derivatives:
        da["shape"], da["scale"] = np.empty_like(X), np.empty_like(X)
    for first, cols in _groups(np.column_stack([shape, scale])):
        k, lam = float(shape[first]), float(scale[first])
        w = adstock_weights(f"weibull_{sub}", shape=k, scale=lam,  # type: ignore[arg-type]
                            l_max=l_max)
        a[:, cols] = lfilter(w, [1.0], X[:, cols], axis=0)
        if derivatives:
            for name, value in (("shape", k), ("scale", lam)):
                h = 1e-6 * max(value, 1e-3)
                kw_p = {"shape": k, "scale": lam, name: value + h}
                kw_m = {"shape": k, "scale": lam, name: value - h}
                dw = (adstock_weights(f"weibull_{sub}", l_max=l_max, **kw_p)  # type: ignore
                      - adstock_weights(f"weibull_{sub}", l_max=l_max, **kw_m)) / (2 * h)
                da[name][:, cols] = lfilter(dw, [1.0], X[:, cols], axis=0)
    return a, da


def _saturation_jac(a: np.ndarray, kind: str, params: dict, derivatives: bool
                    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Saturated values, d h / d a, and derivatives with respect to saturation parameters."""
    pos = a > 0
    if kind == "hill":
        K, s = params["half"][None, :], params["slope"][None, :]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_ratio = np.where(pos, np.log(np.where(pos, a, 1.0)) - np.log(K), 0.0)
            h = np.where(pos, 1.0 / (1.0 + np.exp(-s * log_ratio)), 0.0)
        if not derivatives:
            return h, np.empty(0), {}
        hh = h * (1.0 - h)
        dh_da = np.where(pos, s * hh / np.where(pos, a, 1.0), 0.0)
        return h, dh_da, {"half": -s * hh / K, "slope": hh * log_ratio}
    lam = params["lam"][None, :]
    h = np.tanh(lam * a / 2.0)
    if not derivatives:
        return h, np.empty(0), {}
    sech2 = 1.0 - h * h
    return h, lam / 2.0 * sech2, {"lam": a / 2.0 * sech2}


@dataclass
class Lifts:
    """Experiment lifts used for calibration (already validated)."""

    channel_idx: np.ndarray  # (K,)
    start_idx: np.ndarray  # (K,) first week of the test window
    X_off: np.ndarray  # (T, K): the channel's spend with the test window set to 0
    lift: np.ndarray  # (K,) measured incremental sales
    se: np.ndarray  # (K,)

    @property
    def size(self) -> int:
        return len(self.lift)

    def g(self, transform: Transform, X: np.ndarray, theta: np.ndarray,
          H: np.ndarray | None = None) -> np.ndarray:
        """Incremental effect per unit coefficient: sum_{t >= start} h(x)_t - h(x_off)_t."""
        if self.size == 0:
            return np.zeros(0)
        if H is None:
            H = transform.columns(X, theta)
        H_off = transform.columns(self.X_off, theta, self.channel_idx)
        mask = np.arange(X.shape[0])[:, None] >= self.start_idx[None, :]
        return ((H[:, self.channel_idx] - H_off) * mask).sum(axis=0)

    def g_jac(self, transform: Transform, theta: np.ndarray, H: np.ndarray,
              dH: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """g and its derivatives (K, P) on the unit cube."""
        H_off, dH_off = transform.jacobian(self.X_off, theta, self.channel_idx)
        assert dH_off is not None
        mask = (np.arange(H.shape[0])[:, None] >= self.start_idx[None, :]).astype(float)
        g = ((H[:, self.channel_idx] - H_off) * mask).sum(axis=0)
        dg = np.einsum("tk,tkp->kp", mask, dH[:, self.channel_idx, :] - dH_off)
        return g, dg


@dataclass
class Solution:
    beta: np.ndarray  # (C,)
    gamma: np.ndarray  # (F,)
    objective: float  # scaled J / (n s_y^2)
    resid: np.ndarray  # projected data residual (n,)
    calib_resid: np.ndarray  # (K,) weighted calibration residuals
    H: np.ndarray  # (T, C) media columns
    g: np.ndarray  # (K,)
    A: np.ndarray  # augmented design of the NNLS problem
    t: np.ndarray  # augmented target


class Core:
    """Data + fixed settings; solves the inner constrained ridge problem for given theta."""

    def __init__(self, y: np.ndarray, F: np.ndarray, X: np.ndarray, transform: Transform,
                 ridge: float, lifts: Lifts, sigma: float | None) -> None:
        self.F = F
        self.X = X
        self.transform = transform
        self.ridge = float(ridge)
        self.lifts = lifts
        self.n = len(y)
        Q, R = np.linalg.qr(F)
        self.Q, self.R = Q, R
        self.scale = float(np.std(y)) or 1.0
        self.sigma = sigma
        self._cache: tuple[tuple, Any] | None = None
        self.set_y(y, lifts.lift)

    def set_y(self, y: np.ndarray, lift: np.ndarray) -> None:
        self.y = np.asarray(y, dtype=float)
        self.My = self.y - self.Q @ (self.Q.T @ self.y)
        self.lift_target = np.asarray(lift, dtype=float)
        self._cache = None

    @property
    def lift_weight(self) -> np.ndarray:
        if self.lifts.size == 0 or self.sigma is None:
            return np.zeros(self.lifts.size)
        return self.sigma / self.lifts.se

    @staticmethod
    def column_sd(H: np.ndarray) -> np.ndarray:
        """Standard deviation of each media column (the ridge penalises beta * sd / sd(y))."""
        return H.std(axis=0)

    def solve_theta(self, theta: np.ndarray) -> Solution:
        H = self.transform.columns(self.X, theta)
        g = self.lifts.g(self.transform, self.X, theta, H)
        return self.solve(H, g)

    def solve(self, H: np.ndarray, g: np.ndarray, rows: np.ndarray | None = None) -> Solution:
        from scipy.optimize import nnls

        C = H.shape[1]
        if rows is None:
            Q, R, My, y, F = self.Q, self.R, self.My, self.y, self.F
        else:
            F = self.F[rows]
            Q, R = np.linalg.qr(F)
            y = self.y[rows]
            My = y - Q @ (Q.T @ y)
        Hs = H if rows is None else H[rows]
        MH = Hs - Q @ (Q.T @ Hs)
        n = len(My)
        blocks = [MH]
        targets = [My]
        if self.ridge > 0:
            blocks.append(np.sqrt(n * self.ridge) * np.diag(self.column_sd(H)))
            targets.append(np.zeros(C))
        w = self.lift_weight
        K = self.lifts.size
        if K and np.any(w > 0):
            L = np.zeros((K, C))
            L[np.arange(K), self.lifts.channel_idx] = w * g
            blocks.append(L)
            targets.append(w * self.lift_target)
        A = np.vstack(blocks)
        t = np.concatenate(targets)
        beta, rnorm = nnls(A, t, maxiter=50 * C)
        resid = My - MH @ beta
        gamma = np.linalg.solve(R, Q.T @ (y - Hs @ beta))
        calib = (w * (self.lift_target - g * beta[self.lifts.channel_idx])
                 if K else np.zeros(0))
        scaled = rnorm**2 / (self.n * self.scale**2)
        return Solution(beta, gamma, float(scaled), resid, calib, H, g, A, t)

    # -- optimisation over the unit cube ---------------------------------------------------
    def objective(self, u_flat: np.ndarray) -> float:
        theta = self.transform.natural(u_flat.reshape(self.transform.lo.shape))
        return self.solve_theta(theta).objective

    def _solve_at(self, u_flat: np.ndarray
                  ) -> tuple[Solution, np.ndarray, np.ndarray, np.ndarray]:
        """Inner solution at the unit-cube point ``u_flat``, with the media columns ``H``,
        their derivatives ``dH`` (T × C × P) and the lift terms' derivatives ``dg`` (K × P)."""
        tr = self.transform
        theta = tr.natural(u_flat.reshape(tr.lo.shape))
        H, dH = tr.jacobian(self.X, theta)
        assert dH is not None
        if self.lifts.size:
            g, dg = self.lifts.g_jac(tr, theta, H, dH)
        else:
            g, dg = np.zeros(0), np.zeros((0, tr.lo.shape[1]))
        return self.solve(H, g), H, dH, dg

    def objective_and_grad(self, u_flat: np.ndarray) -> tuple[float, np.ndarray]:
        """Profiled objective and its gradient on the unit cube (envelope theorem).

        With :math:`\\hat\\beta(\\theta)` the inner solution, :math:`dJ/d\\theta =
        \\partial\\Phi/\\partial\\theta` at :math:`\\hat\\beta`: for parameter *p* of
        channel *c*, :math:`-2\\beta_c [r^\\top \\partial h_c + \\sum_{k: c_k = c} e_k w_k
        \\partial g_k] + 2 n \\lambda \\beta_c^2 \\mathrm{cov}(h_c, \\partial h_c)`.
        """
        sol, H, dH, dg = self._solve_at(u_flat)
        beta = sol.beta
        grad = -2.0 * beta[:, None] * np.einsum("t,tcp->cp", sol.resid, dH)
        w = self.lift_weight
        if self.lifts.size and np.any(w > 0):
            term = np.zeros_like(grad)
            np.add.at(term, self.lifts.channel_idx, (sol.calib_resid * w)[:, None] * dg)
            grad -= 2.0 * beta[:, None] * term
        if self.ridge > 0:
            grad += 2.0 * self.n * self.ridge * (beta**2)[:, None] * _media_cov(H, dH)
        grad /= self.n * self.scale**2
        return sol.objective, grad.ravel()

    # -- variable projection: residual vector and its Jacobian -----------------------------
    def _ls_eval(self, u_flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled residual vector of the augmented NNLS problem and its Jacobian in u.

        The Jacobian is Kaufman's (1975) variable-projection approximation
        :math:`J = -P^\\perp (\\partial A / \\partial u)\\hat\\beta`, with :math:`P^\\perp` the
        projection off the active (non-zero) media columns; :math:`J^\\top r` is the exact
        gradient of the profiled objective.
        """
        # the key holds the penalty settings too: the fit changes them between calls
        key = (u_flat.tobytes(), self.ridge, self.sigma)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        C, P = self.transform.lo.shape
        K = self.lifts.size
        sol, H, dH, dg = self._solve_at(u_flat)
        beta = sol.beta
        norm = np.sqrt(self.n) * self.scale
        r = (sol.t - sol.A @ beta) / norm
        # d(A beta)/du for every (channel, parameter): only column c of A moves with u[c, :]
        T = self.n
        dHb = dH * beta[None, :, None]  # (T, C, P)
        flat = dHb.reshape(T, C * P)
        parts = [flat - self.Q @ (self.Q.T @ flat)]
        if self.ridge > 0:
            sd = self.column_sd(H)
            cov = _media_cov(H, dH)
            d_sd = np.where(sd[:, None] > 0, cov / np.where(sd > 0, sd, 1.0)[:, None], 0.0)
            block = np.zeros((C, C, P))
            block[np.arange(C), np.arange(C), :] = np.sqrt(T * self.ridge) * d_sd * beta[:, None]
            parts.append(block.reshape(C, C * P))
        w = self.lift_weight
        if K and np.any(w > 0):
            block = np.zeros((K, C, P))
            ci = self.lifts.channel_idx
            block[np.arange(K), ci, :] = (w * beta[ci])[:, None] * dg
            parts.append(block.reshape(K, C * P))
        DA = np.vstack(parts)
        active = beta > 0
        if active.any():
            Qa, _ = np.linalg.qr(sol.A[:, active])
            DA = DA - Qa @ (Qa.T @ DA)
        J = -DA / norm
        self._cache = (key, (r, J))
        return r, J

    def minimise_ls(self, u0: np.ndarray, max_nfev: int = 100,
                    tol: float = 1e-10) -> tuple[np.ndarray, float, int]:
        """Bounded Gauss-Newton (trust-region reflective) on the unit cube from ``u0``."""
        from scipy.optimize import least_squares

        res = least_squares(lambda v: self._ls_eval(v)[0], np.clip(u0.ravel(), 0.0, 1.0),
                            jac=lambda v: self._ls_eval(v)[1], bounds=(0.0, 1.0),
                            method="trf", x_scale="jac", ftol=tol, xtol=tol, gtol=tol,
                            max_nfev=max_nfev)
        u = np.clip(res.x, 0.0, 1.0)
        return u.reshape(u0.shape), float(2.0 * res.cost), int(res.nfev)
