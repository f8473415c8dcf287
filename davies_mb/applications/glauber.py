r"""Glauber dynamics of the Ising ring from the Davies generator.

Model (:math:`\hbar = k_B = 1`; Pauli operators, PHYSICS.md section 1): the classical periodic chain
:math:`H = -J\sum_j \sigma^z_j\sigma^z_{j+1}`, with an independent bath on every site coupled through
:math:`\sigma^x_j` at strength :math:`\lambda`, whose rate function is Glauber's

.. math::

    \gamma(\omega) = \frac{\alpha}{1 + e^{-\beta\omega}}, \qquad\text{i.e.}\qquad
    J_{\rm bath}(\omega) = \frac{\alpha}{2\pi}\tanh\frac{\beta\omega}{2}

(a :class:`davies_mb.SpectralBath`). :math:`H` is diagonal in the computational basis, with massively
degenerate levels; :math:`\sigma^x_j` flips spin :math:`j` and changes the energy by
:math:`\Delta E = 2J\sigma_j(\sigma_{j-1} + \sigma_{j+1})`, so the Davies jump operators map configurations
to configurations, diagonal states stay diagonal, and the populations follow the classical master
equation with flip rates

.. math::

    w_j(\sigma) = \lambda^2\gamma(-\Delta E) = \frac{\alpha_G}{2}\Big(1 - \frac{\gamma_G}{2}\,
    \sigma_j(\sigma_{j-1} + \sigma_{j+1})\Big), \qquad \alpha_G = \lambda^2\alpha,\quad
    \gamma_G = \tanh 2\beta J:

Glauber's kinetic Ising model (R. J. Glauber, J. Math. Phys. 4, 294 (1963)). Its single-spin
expectations close: :math:`\frac{d}{dt}\langle\sigma_k\rangle = -\alpha_G\big[\langle\sigma_k\rangle
- \frac{\gamma_G}{2}(\langle\sigma_{k-1}\rangle + \langle\sigma_{k+1}\rangle)\big]`, solved on a ring of
L sites by Fourier modes :math:`q = 2\pi n/L` decaying at :math:`\alpha_G(1 - \gamma_G\cos q)`
(:func:`glauber_magnetization`); on the infinite chain
:math:`\langle\sigma_k\rangle(t) = e^{-\alpha_G t}\sum_m I_{k-m}(\gamma_G\alpha_G t)\langle\sigma_m\rangle(0)`,
and a uniform magnetization decays as :math:`m(t) = m(0)\,e^{-\alpha_G(1-\gamma_G)t}`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import davies_mb as dm

from . import _validate as v

__all__ = ["glauber_bath", "ising_ring", "glauber_generator", "glauber_magnetization", "glauber_rate"]


def glauber_bath(alpha: float, beta: float) -> "dm.SpectralBath":
    r"""The :class:`davies_mb.SpectralBath` with :math:`\gamma(\omega) = \alpha/(1 + e^{-\beta\omega})`."""
    alpha = v.real("alpha", alpha, positive=True)
    beta = v.real("beta", beta, positive=True)

    def J(w, a=alpha, b=beta):
        return a * np.tanh(0.5 * b * np.asarray(w)) / (2.0 * np.pi)

    # lim J(w)/w = alpha beta / (4 pi): exact, so gamma(0) = alpha / 2
    return dm.SpectralBath(J, beta, frequency_scale=1.0 / beta, zero_limit=alpha * beta / (4.0 * np.pi))


def glauber_rate(alpha: float, beta: float, J: float, sigma_j, neighbours_sum):
    r"""Glauber's flip rate :math:`(\alpha/2)(1 - (\tanh 2\beta J / 2)\,\sigma_j(\sigma_{j-1}+\sigma_{j+1}))`."""
    return 0.5 * alpha * (1.0 - 0.5 * np.tanh(2.0 * beta * J) * np.asarray(sigma_j) * np.asarray(neighbours_sum))


def ising_ring(L: int, J: float = 1.0) -> tuple[sp.csr_array, list]:
    r"""``(H, [sigma^x_0, ..., sigma^x_{L-1}])`` for :math:`H = -J\sum_j\sigma^z_j\sigma^z_{j+1}` (periodic,
    site 0 most significant), sparse. ``L >= 3``."""
    L = v.integer("L", L, minimum=3)
    if L > 14:
        raise ValueError(f"L must be <= 14 (the Davies generator of a 2^L space), got {L}")
    J = v.real("J", J)
    z = np.array([[1.0, 0.0], [0.0, -1.0]])
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    Zs = [dm.site_operator(z, j, L) for j in range(L)]
    H = sum(-J * (Zs[j] @ Zs[(j + 1) % L]) for j in range(L))
    return sp.csr_array(H), [dm.site_operator(x, j, L) for j in range(L)]


def glauber_generator(L: int, J: float, beta: float, alpha: float = 1.0, strength: float = 1.0) -> "dm.DaviesGenerator":
    r"""The Davies generator of the Ising ring with a Glauber bath on every site (module docstring);
    Glauber's :math:`\alpha_G = \lambda^2\alpha`."""
    H, xs = ising_ring(L, J)
    spec = dm.diagonalize(H.toarray(), blocks=None)
    return dm.DaviesGenerator(spec, xs, glauber_bath(alpha, beta), strength=v.real("strength", strength, positive=True))


def glauber_magnetization(m0, times, *, J: float, beta: float, alpha_g: float) -> np.ndarray:
    r"""Exact :math:`\langle\sigma_k\rangle(t)` of Glauber's model on a ring of ``len(m0)`` sites.

    .. math:: \langle\sigma_k\rangle(t) = \frac1L\sum_q e^{iqk}e^{-\alpha_G(1-\gamma_G\cos q)t}\,\hat m_q(0),
              \qquad q = 2\pi n/L,\ \gamma_G = \tanh 2\beta J.

    Returns shape ``(len(times), L)``.
    """
    m0 = np.asarray(m0, dtype=float)
    if m0.ndim != 1 or m0.size < 3 or np.any(np.abs(m0) > 1):
        raise ValueError("m0 must be the initial magnetizations <sigma^z_k> of L >= 3 sites, each in [-1, 1]")
    t = np.asarray(times, dtype=float)
    beta = v.real("beta", beta, positive=True, allow_inf=True)
    g = np.tanh(2.0 * beta * v.real("J", J))
    a = v.real("alpha_g", alpha_g, positive=True)
    L = m0.size
    q = 2.0 * np.pi * np.arange(L) / L
    mq = np.fft.fft(m0)
    decay = np.exp(-a * np.outer(t, 1.0 - g * np.cos(q)))
    return np.real(np.fft.ifft(decay * mq[None, :], axis=1))
