"""Tests for davies_mb.operators: the one spin convention and the site embedding.

References are written out by hand here (textbook Pauli matrices, basis index 0 = spin up) and
embedded with plain ``numpy.kron`` with site 0 the leftmost (most significant) factor.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import davies_mb as dm
from davies_mb.operators import LABELS, pauli, site_operator, spin_operator

ATOL = 1e-14

# textbook matrices, basis (|up>, |down>)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
SZ = np.array([[1, 0], [0, -1]], dtype=complex)
SP = np.array([[0, 1], [0, 0]], dtype=complex)  # |up><down|
SM = np.array([[0, 0], [1, 0]], dtype=complex)  # |down><up|
TEXTBOOK = {"x": SX, "y": SY, "z": SZ, "+": SP, "-": SM}
UP = np.array([1, 0], dtype=complex)
DOWN = np.array([0, 1], dtype=complex)


def kron_embed(op, site, L):
    return np.kron(np.kron(np.eye(2**site), op), np.eye(2 ** (L - site - 1)))


def comm(a, b):
    return a @ b - b @ a


# ----------------------------------------------------------------------------------------------
# single-spin matrices
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["x", "y", "z", "+", "-"])
def test_pauli_textbook(label):
    m = pauli(label)
    assert m.shape == (2, 2)
    assert_allclose(m, TEXTBOOK[label], atol=ATOL)


def test_top_level_reexports_are_the_same_functions():
    assert dm.pauli is pauli
    assert dm.spin_operator is spin_operator
    assert dm.site_operator is site_operator


@pytest.mark.parametrize("label", ["x", "y", "z"])
def test_spin_operator_is_half_pauli(label):
    assert_allclose(spin_operator(label), TEXTBOOK[label] / 2, atol=ATOL)


def test_real_dtypes_where_real():
    for label in ("x", "z", "+", "-"):
        assert np.isrealobj(pauli(label)), label
        assert np.isrealobj(spin_operator(label)), label
    assert np.iscomplexobj(pauli("y"))
    assert np.iscomplexobj(spin_operator("y"))


def test_basis_index_zero_is_spin_up():
    # sigma^z |up> = +|up>, with |up> = e_0
    assert_allclose(pauli("z") @ UP, UP, atol=ATOL)
    assert_allclose(pauli("z") @ DOWN, -DOWN, atol=ATOL)
    assert_allclose(spin_operator("z") @ UP, 0.5 * UP, atol=ATOL)


def test_raising_operator_raises_sz():
    # sigma^+ = |up><down| maps down -> up and kills up
    assert_allclose(pauli("+") @ DOWN, UP, atol=ATOL)
    assert_allclose(pauli("+") @ UP, 0, atol=ATOL)
    assert_allclose(pauli("-") @ UP, DOWN, atol=ATOL)
    assert_allclose(pauli("-") @ DOWN, 0, atol=ATOL)
    # [S^z, S^+] = +S^+ : S^+ raises S^z by one
    Sz, Sp, Sm = spin_operator("z"), spin_operator("+"), spin_operator("-")
    assert_allclose(comm(Sz, Sp), Sp, atol=ATOL)
    assert_allclose(comm(Sz, Sm), -Sm, atol=ATOL)


def test_ladder_operators_from_cartesian():
    Sx, Sy = spin_operator("x"), spin_operator("y")
    # S^± = S^x ± i S^y
    assert_allclose(spin_operator("+"), Sx + 1j * Sy, atol=ATOL)
    assert_allclose(spin_operator("-"), Sx - 1j * Sy, atol=ATOL)
    # sigma^± = (sigma^x ± i sigma^y)/2 = S^±
    assert_allclose(pauli("+"), (pauli("x") + 1j * pauli("y")) / 2, atol=ATOL)
    assert_allclose(pauli("-"), (pauli("x") - 1j * pauli("y")) / 2, atol=ATOL)
    assert_allclose(pauli("+"), spin_operator("+"), atol=ATOL)
    assert_allclose(pauli("-"), pauli("+").conj().T, atol=ATOL)


def test_single_spin_algebra():
    Sx, Sy, Sz = (spin_operator(a) for a in "xyz")
    assert_allclose(comm(Sx, Sy), 1j * Sz, atol=ATOL)
    assert_allclose(comm(Sy, Sz), 1j * Sx, atol=ATOL)
    assert_allclose(comm(Sz, Sx), 1j * Sy, atol=ATOL)
    # S^2 = s(s+1) = 3/4
    assert_allclose(Sx @ Sx + Sy @ Sy + Sz @ Sz, 0.75 * np.eye(2), atol=ATOL)
    for a in "xyz":
        assert_allclose(pauli(a) @ pauli(a), np.eye(2), atol=ATOL)


def test_returned_matrices_are_copies():
    m = pauli("x")
    m[0, 0] = 99.0
    assert_allclose(pauli("x"), SX, atol=ATOL)
    s = spin_operator("z")
    s[0, 0] = 99.0
    assert_allclose(spin_operator("z"), SZ / 2, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# site embedding
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("L", [1, 2, 3, 5])
@pytest.mark.parametrize("label", ["x", "y", "z", "+", "-"])
def test_site_operator_matches_kron(L, label):
    for site in range(L):
        got = site_operator(pauli(label), site, L)
        assert sp.issparse(got)
        assert got.shape == (2**L, 2**L)
        assert_allclose(got.toarray(), kron_embed(TEXTBOOK[label], site, L), atol=ATOL)


def test_site_operator_generic_matrix():
    rng = np.random.default_rng(7)
    op = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    for site in range(4):
        assert_allclose(site_operator(op, site, 4).toarray(), kron_embed(op, site, 4), atol=ATOL)


def test_site_zero_is_most_significant_bit():
    L = 4
    # sigma^z_j on basis state b is +1 when bit (L-1-j) of b is 0 (spin up)
    for j in range(L):
        diag = site_operator(pauli("z"), j, L).diagonal()
        expected = np.array([1.0 if ((b >> (L - 1 - j)) & 1) == 0 else -1.0 for b in range(2**L)])
        assert_allclose(diag.real, expected, atol=ATOL)
    # sigma^-_0 maps |up up up up> (index 0) to |down up up up> (index 2^(L-1))
    v = np.zeros(2**L)
    v[0] = 1
    out = site_operator(pauli("-"), 0, L) @ v
    assert np.flatnonzero(out).tolist() == [2 ** (L - 1)]


@pytest.mark.parametrize("L", [2, 3, 4])
def test_site_commutation_relations(L):
    for site in range(L):
        Sx, Sy, Sz = (site_operator(spin_operator(a), site, L).toarray() for a in "xyz")
        assert_allclose(comm(Sx, Sy), 1j * Sz, atol=ATOL)
        assert_allclose(comm(Sy, Sz), 1j * Sx, atol=ATOL)
        assert_allclose(comm(Sz, Sx), 1j * Sy, atol=ATOL)
        Sp = site_operator(spin_operator("+"), site, L).toarray()
        assert_allclose(comm(Sz, Sp), Sp, atol=ATOL)
    # different sites commute
    for i, j in itertools.permutations(range(L), 2):
        for a, b in itertools.product("xyz", repeat=2):
            A = site_operator(pauli(a), i, L).toarray()
            B = site_operator(pauli(b), j, L).toarray()
            assert_allclose(comm(A, B), 0, atol=ATOL)


# ----------------------------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", [pauli, spin_operator])
@pytest.mark.parametrize("bad", ["w", "i", "sx", "", "xx", "p"])
def test_bad_label_lists_valid_ones(func, bad):
    with pytest.raises(ValueError) as err:
        func(bad)
    msg = str(err.value)
    assert repr(bad) in msg
    for lab in LABELS:
        assert lab in msg


@pytest.mark.parametrize("func", [pauli, spin_operator])
@pytest.mark.parametrize("bad", [0, None, 1.5, ("x",)])
def test_non_string_label_is_type_error(func, bad):
    with pytest.raises(TypeError, match="label"):
        func(bad)


@pytest.mark.parametrize("site", [-1, 3, 10, 1.0, 0.5, True, "0", None])
def test_bad_site_raises_value_error(site):
    with pytest.raises(ValueError) as err:
        site_operator(pauli("x"), site, 3)
    msg = str(err.value)
    assert "site" in msg and "[0, 2]" in msg


@pytest.mark.parametrize("L", [0, -2, 2.0, True, None])
def test_bad_L_raises(L):
    with pytest.raises(ValueError, match="L must be"):
        site_operator(pauli("x"), 0, L)


@pytest.mark.parametrize("shape", [(3, 3), (2,), (4, 4), (2, 3)])
def test_site_operator_rejects_non_2x2(shape):
    with pytest.raises(ValueError, match="2x2"):
        site_operator(np.zeros(shape), 0, 3)


def test_chain_op_bad_label_lists_valid_ones():
    chain = dm.xxz(3, 0.5)
    with pytest.raises(ValueError) as err:
        chain.op("q", 0)
    assert all(lab in str(err.value) for lab in LABELS)
    with pytest.raises(ValueError, match="site"):
        chain.pauli("x", 3)
