r"""The two-frequency Lamb-shift kernel of the universal Lindblad equation (ULE) and its matrix.

With :math:`g(\omega) = \sqrt{\gamma(\omega)}` (the jump correlator in the frequency domain, in the
rate convention of :meth:`davies_mb.Bath.gamma`: :math:`\omega > 0` is emission) the ULE Lamb shift is

.. math::

    \Lambda_{mn} = \sum_k X_{mk}X_{kn}\,F(E_m - E_k, E_n - E_k),\qquad
    F(a, b) = -\frac{1}{2\pi}\,\mathrm{P}\!\!\int_{-\infty}^{\infty}\frac{g(a+\nu)\,g(b+\nu)}{\nu}\,d\nu
            = -\frac{1}{2\pi}\int_0^\infty \frac{g(a+\nu)g(b+\nu) - g(a-\nu)g(b-\nu)}{\nu}\,d\nu ,

so that :math:`F(\omega, \omega) = S(\omega)`, the Lamb-shift function of :meth:`davies_mb.Bath.lamb_shift`,
and in the secular limit :math:`\Lambda` reduces to :math:`\sum_\omega S(\omega)A(\omega)^\dagger A(\omega)`.

Two evaluations:

* :func:`kernel` -- direct composite Gauss-Legendre quadrature, vectorized over pairs ``(a, b)``. The panel
  edges sit at the kinks of the integrand (:math:`\nu = |a|, |b|`, where an argument of :math:`g` crosses
  0) and grade geometrically away from them on the thermal scale :math:`1/\beta` (the Bose factor's poles
  lie :math:`2\pi/\beta` off the real axis next to those points), so each panel holds an analytic function:
  about 1e-13 relative at the temperatures used here. The integrand is cut at
  :math:`\max(|a|,|b|) + 45\,\omega_s` (:math:`\omega_s` the bath's frequency scale: the product of the two
  :math:`g` decays like :math:`e^{-\nu/\omega_s}` there).
* :class:`LowRankKernel` -- for many pairs (:math:`d^3` of them): :math:`F` is tabulated per sign quadrant
  of :math:`(a, b)` (it has an :math:`a\log|a|` singularity at :math:`a = 0`, graded away by
  :math:`a = \pm W u^6`) on a tensor Chebyshev grid in :math:`u`, compressed by an SVD to
  :math:`F \approx \sum_r f_r(a)\,h_r(b)`, and :math:`\Lambda` becomes
  :math:`\sum_{q,r}(X\circ U_{qr})(X\circ V_{qr})`: a few dozen :math:`d\times d` matrix products instead of
  :math:`d^3` kernel evaluations. :math:`F` also has weak (integrated-kink) singularities on the diagonals
  :math:`|a| = |b|`, which a tensor grid does not resolve: the table is accurate to about :math:`10^{-6}`
  relative (measured against :func:`kernel` at random points and stored as ``error``), a relative error of
  order :math:`10^{-6}\lambda^2` in a second-order correction.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.polynomial.legendre as npleg

_GL_X, _GL_W = npleg.leggauss(16)
_TAIL = 45.0  # in units of the bath's frequency scale


def sqrt_rates(bath, w) -> np.ndarray:
    r""":math:`g(\omega) = \sqrt{\gamma(\omega)}` (0 where the rate is 0, e.g. absorption at zero temperature)."""
    return np.sqrt(np.maximum(np.asarray(bath.gamma(np.asarray(w, dtype=float)), dtype=float), 0.0))


def _scales(bath):
    s = float(bath._frequency_scale())
    beta = float(bath.beta)
    tau = min(1.0 / beta, s) if np.isfinite(beta) else 1e-3 * s
    return s, tau


def kernel(bath, a, b, *, chunk: int = 2048) -> np.ndarray:
    """:math:`F(a, b)` (module docstring) for arrays ``a``, ``b`` of one shape, by graded Gauss-Legendre panels."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    shape = np.broadcast_shapes(a.shape, b.shape)
    a, b = np.broadcast_to(a, shape).ravel(), np.broadcast_to(b, shape).ravel()
    s, tau = _scales(bath)
    numax = float(np.max(np.abs(np.concatenate([a, b]))) if a.size else 0.0) + _TAIL * s
    kmin = -40 if not np.isfinite(bath.beta) else -4
    kmax = int(math.ceil(math.log2(numax / tau))) + 1
    steps = tau * 2.0 ** np.arange(kmin, kmax + 1)
    out = np.empty(a.size)
    for i in range(0, a.size, chunk):
        aa, bb = a[i:i + chunk], b[i:i + chunk]
        centers = np.stack([np.zeros_like(aa), np.abs(aa), np.abs(bb)], axis=1)  # (P, 3)
        edges = (centers[:, :, None] + np.concatenate([-steps, [0.0], steps])[None, None, :]).reshape(aa.size, -1)
        hi = np.maximum(np.abs(aa), np.abs(bb))[:, None] + _TAIL * s
        edges = np.sort(np.clip(edges, 0.0, hi), axis=1)
        lo_e, hi_e = edges[:, :-1], edges[:, 1:]
        half = 0.5 * (hi_e - lo_e)
        nu = (0.5 * (hi_e + lo_e))[:, :, None] + half[:, :, None] * _GL_X[None, None, :]  # (P, E, 16)
        wts = half[:, :, None] * _GL_W[None, None, :]
        A, B = aa[:, None, None], bb[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = (sqrt_rates(bath, A + nu) * sqrt_rates(bath, B + nu)
                 - sqrt_rates(bath, A - nu) * sqrt_rates(bath, B - nu)) / nu
        f = np.where(wts > 0, f, 0.0)
        out[i:i + chunk] = -np.sum(f * wts, axis=(1, 2)) / (2.0 * np.pi)
    return out.reshape(shape)


def lamb_matrix_direct(bath, E: np.ndarray, X: np.ndarray) -> np.ndarray:
    r""":math:`\Lambda_{mn} = \sum_k X_{mk}X_{kn}F(E_m-E_k, E_n-E_k)` with the kernel at every ``(m, k, n)``."""
    n = E.size
    Om = E[:, None] - E[None, :]  # Om[m, k] = E_m - E_k
    F = kernel(bath, np.broadcast_to(Om[:, :, None], (n, n, n)), np.broadcast_to(Om.T[None, :, :], (n, n, n)))
    # F[m, k, n'] = F(E_m - E_k, E_n' - E_k)
    return np.einsum("mk,kn,mkn->mn", X, X, F)


class LowRankKernel:
    r"""Separable form of :math:`F` on :math:`[-W, W]^2`: per sign quadrant
    :math:`F(a, b) \approx \sum_r f_r(a) h_r(b)` from a Chebyshev table in :math:`u = (|a|/W)^{1/6}`."""

    def __init__(self, bath, W: float, *, n: int = 48, rtol: float = 1e-9, seed: int = 0):
        self.W = float(W) if W > 0 else 1.0
        self.n = n
        k = np.arange(n)
        self.u = 0.5 * (1.0 - np.cos(np.pi * (k + 0.5) / n))  # Chebyshev points of the first kind on [0, 1]
        # barycentric weights of first-kind points
        self.bw = (-1.0) ** k * np.sin(np.pi * (k + 0.5) / n)
        mag = self.W * self.u**6
        self.factors = {}
        for sa in (1, -1):
            for sb in (1, -1):
                if (sb, sa) in self.factors:  # F(a, b) = F(b, a): the mirrored quadrant is the transpose
                    f, h = self.factors[(sb, sa)]
                    self.factors[(sa, sb)] = (h, f)
                    continue
                T = kernel(bath, sa * mag[:, None] + 0 * mag[None, :], sb * mag[None, :] + 0 * mag[:, None])
                Uq, sv, Vq = np.linalg.svd(T)
                r = int(np.sum(sv > rtol * max(sv[0], 1e-300))) if sv.size else 0
                r = max(r, 1)
                self.factors[(sa, sb)] = (Uq[:, :r] * sv[:r], Vq[:r].T)  # tables of f_r and h_r at the nodes
        self.rank = {q: v[0].shape[1] for q, v in self.factors.items()}
        # accuracy against the direct quadrature at random points
        rng = np.random.default_rng(seed)
        pa, pb = rng.uniform(-self.W, self.W, 64), rng.uniform(-self.W, self.W, 64)
        ref = kernel(bath, pa, pb)
        got = self.evaluate(pa, pb)
        self.error = float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-300))

    def basis(self, x: np.ndarray) -> np.ndarray:
        """Barycentric interpolation weights ``(x.size, n)`` at ``u = (|x|/W)^(1/6)``."""
        u = (np.minimum(np.abs(np.ravel(x)), self.W) / self.W) ** (1.0 / 6.0)
        diff = u[:, None] - self.u[None, :]
        exact = diff == 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            c = self.bw[None, :] / diff
        c = np.where(exact.any(axis=1, keepdims=True), exact.astype(float), c)
        return c / np.sum(c, axis=1, keepdims=True)

    def evaluate(self, a, b) -> np.ndarray:
        a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
        Ba, Bb = self.basis(a), self.basis(b)
        out = np.zeros(a.size)
        for (sa, sb), (f, h) in self.factors.items():
            m = ((a >= 0) if sa > 0 else (a < 0)) & ((b >= 0) if sb > 0 else (b < 0))
            out[m] = np.sum((Ba[m] @ f) * (Bb[m] @ h), axis=1)
        return out

    def lamb_matrix(self, E: np.ndarray, X: np.ndarray, *, rows: int = 256, budget: float = 2**30) -> np.ndarray:
        r""":math:`\Lambda = \sum_{q,r} P_{qr} Q_{qr}`, :math:`(P_{qr})_{mk} = X_{mk}f_r(E_m-E_k)[q_a]`,
        :math:`(Q_{qr})_{kn} = X_{kn}h_r(E_n-E_k)[q_b]`: a few dozen ``d x d`` products (ranks in groups
        that fit ``budget`` bytes)."""
        n = E.size
        out = np.zeros((n, n), dtype=np.result_type(X.dtype, float))
        Om = E[:, None] - E[None, :]  # Om[m, k] = E_m - E_k; (E_n - E_k) = Om[n, k] = Om.T[k, n]
        group = max(1, int(budget // (2 * n * n * np.dtype(out.dtype).itemsize)))
        for (sa, sb), (f_all, h_all) in self.factors.items():
            for g0 in range(0, f_all.shape[1], group):
                f, h = f_all[:, g0:g0 + group], h_all[:, g0:g0 + group]
                r = f.shape[1]
                P = np.zeros((r, n, n), dtype=out.dtype)
                Q = np.zeros((r, n, n), dtype=out.dtype)
                for i in range(0, n, rows):  # chunks of rows: the interpolation weights are (rows*n, nodes)
                    sl = slice(i, i + rows)
                    om = Om[sl]
                    ma = (om >= 0) if sa > 0 else (om < 0)
                    mb = (om >= 0) if sb > 0 else (om < 0)
                    B = self.basis(om)
                    fa = (B @ f).T.reshape(r, -1, n)
                    hb = (B @ h).T.reshape(r, -1, n)
                    P[:, sl] = X[sl][None] * fa * ma[None]
                    # Q[k, n'] = X[k, n'] h(E_n' - E_k): Om[n', k] = E_n' - E_k, so swap the chunk's axes
                    Q[:, :, sl] = np.swapaxes(hb * mb[None], 1, 2) * X[:, sl][None]
                for j in range(r):
                    out += P[j] @ Q[j]
        return out
