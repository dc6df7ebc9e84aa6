"""The blocked, in-place EMC step against a plain implementation of the formulas kept here.

The reference evaluates each formula of ``shared/spec/EMC.md`` directly in float64 (``p = q/s``,
``-sum p log p``, a softmax, ``beta m + (1 - beta) g``, ``sign(m)|m|^e`` with ``np.power``). The
fast path must agree to within a few units of roundoff of the quantities involved: ``eps`` times
the condition of each formula (the size of the summands of a sum, ``|e log|m||`` for a power
evaluated as ``exp(e log|m|)``, ``log2 d`` for a pairwise sum of ``d`` terms). float32 inputs are
compared with the float64 reference evaluated on the same float32 values, with float32's eps.
"""
import copy
import pickle
import threading

import numpy as np
import pytest

import emc_theory as et
from emc_theory import emc as emc_module
from emc_theory import entropy as entropy_module

DTYPES = (np.float64, np.float32)


def reference_entropy(g, kind):
    """H = -sum p log p with p = q / sum q, q = g^2 or |g|; uniform p for g = 0 (float64)."""
    g = np.asarray(g, dtype=np.float64)
    q = g**2 if kind == "l2" else np.abs(g)
    s = q.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(s > 0, q / s, 1.0 / g.shape[-1])
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    return -terms.sum(axis=-1)


def reference_step(g, momenta, K, eta, reading, kind, tau):
    """One EMC step from the formulas; returns updates, momenta, H, Ht, alpha, mt, |m| scale."""
    g = np.asarray(g, dtype=np.float64)
    m = np.asarray(momenta, dtype=np.float64)
    d = g.shape[-1]
    h = reference_entropy(g, kind)
    ht = h / np.log(d)
    lam = np.arange(1, K + 1) / K
    z = np.exp(lam * ht[..., None] / tau)
    alpha = z / z.sum(axis=-1, keepdims=True)
    beta = (1.0 - 2.0 ** -np.arange(1, K + 1)).reshape((K,) + (1,) * g.ndim)
    m_new = beta * m + (1.0 - beta) * g
    weights = np.moveaxis(alpha, -1, 0)[..., None]
    mt = (weights * m_new).sum(axis=0)
    size = (weights * np.abs(m_new)).sum(axis=0)       # the summands' size: condition of mt
    gamma = 2.0 - ht
    e = {"power": gamma, "root": 1.0 / gamma, "linear": np.ones_like(gamma)}[reading][..., None]
    direction = np.sign(mt) * np.power(np.abs(mt), e)
    return -np.asarray(eta)[..., None] * direction, m_new, h, ht, alpha, mt, size, e


def assert_within(err, bound, what):
    """Every entry of ``err`` at most ``bound`` (broadcast); the message gives the worst ratio."""
    err, bound = np.broadcast_arrays(np.asarray(err, dtype=float), np.asarray(bound, dtype=float))
    assert np.all(err <= bound), f"{what}: error / bound up to {np.max(err / bound):.3g}"


def check_step(opt, g, state, eta, inplace=True):
    """One fast step checked against the reference from the same state; returns the new state."""
    dtype = state.momenta.dtype
    eps = np.finfo(dtype).eps
    d = g.shape[-1]
    ref_u, ref_m, ref_h, ref_ht, ref_alpha, mt, size, e = reference_step(
        g, state.momenta, opt.K, eta, opt.reading, opt.entropy, opt.tau)
    u, new, diag = opt.update_with_diagnostics(g, state, inplace=inplace)
    assert u.dtype == dtype and new.momenta.dtype == dtype and diag.weights.dtype == dtype
    assert u.shape == g.shape and new.momenta.shape == state.momenta.shape
    # entropy: pairwise sums of d terms of size <= H + 1 (fast) or H (reference)
    entropy_tol = 4 * eps * (1 + np.log2(d)) * (1 + ref_h)
    assert_within(np.abs(diag.entropy - ref_h), entropy_tol + eps * ref_h, "H")
    ht_tol = entropy_tol / np.log(d) + eps
    assert_within(np.abs(diag.normalized_entropy - ref_ht), ht_tol, "Ht")
    assert_within(np.abs(diag.weights - ref_alpha), 4 * eps + 2 * ht_tol[..., None], "alpha")
    # buffers: beta m + (1 - beta) g, two roundings of terms no larger than max(|m|, |g|)
    m_tol = 2 * eps * (np.abs(state.momenta.astype(float)) + np.abs(g.astype(float)))
    assert_within(np.abs(new.momenta - ref_m), m_tol, "momenta")
    # updates: relative error of |mt|^e, from mt (its summands' size), from e (via Ht) and from
    # exp(e log|mt|) (|e log|mt||); the float32 inputs of the reference are the fast path's.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_mt = np.where(mt != 0, np.log(np.abs(mt)), 0.0)
        rel = eps * (8 + 4 * np.abs(e * log_mt) + 8 * e * np.where(mt != 0, size / np.abs(mt), 0)
                     + np.abs(log_mt) * ht_tol[..., None] / eps)
    bound = rel * np.abs(ref_u) + np.finfo(dtype).tiny
    assert_within(np.abs(u - ref_u), bound, "updates")
    return new


GEOMETRIES = [  # (params shape, tile bytes): one tile, column tiles, row tiles, 2 batch axes
    ((2,), None), ((50,), None), ((3, 50), 64), ((7, 3), 64), ((2, 3, 6), 96), ((4, 1000), None),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reading", et.READINGS)
@pytest.mark.parametrize("kind", et.ENTROPY_KINDS)
@pytest.mark.parametrize("shape, tile_bytes", GEOMETRIES)
def test_steps_match_the_formulas(dtype, reading, kind, shape, tile_bytes, monkeypatch):
    if tile_bytes:
        monkeypatch.setattr(entropy_module, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(hash((shape, reading, kind)) % 2**32)
    K, tau = 1 + len(shape) * 2, 0.7
    batch = shape[:-1]
    lr = rng.uniform(0.05, 0.5, size=batch) if batch else 0.3
    opt = et.EMC(K=K, lr=et.inv_sqrt(lr), reading=reading, entropy=kind, tau=tau)
    state = opt.init(np.zeros(shape, dtype))
    for t in range(1, 5):
        g = (rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, shape))).astype(dtype)
        if t == 3:
            g[..., : shape[-1] // 2] = 0  # exact zeros: the q = 0 terms of the entropy
        eta = (np.asarray(lr) / np.sqrt(t)).astype(dtype)
        state = check_step(opt, g, state, eta)
    assert state.count == 4


@pytest.mark.parametrize("dtype", DTYPES)
def test_inplace_and_pure_steps_are_identical(dtype):
    rng = np.random.default_rng(1)
    opt = et.EMC(K=4, lr=0.1, reading="root")
    pure = opt.init(np.zeros((3, 20), dtype))
    inplace = opt.init(np.zeros((3, 20), dtype))
    buffers = inplace.momenta
    for _ in range(3):
        g = rng.standard_normal((3, 20)).astype(dtype)
        before = pure.momenta.copy()
        u1, new_pure = opt.update(g, pure)
        u2, inplace = opt.update(g, inplace, inplace=True)
        np.testing.assert_array_equal(pure.momenta, before)       # the pure step wrote nothing
        pure = new_pure
        np.testing.assert_array_equal(u1, u2)
        np.testing.assert_array_equal(pure.momenta, inplace.momenta)
        assert inplace.momenta is buffers or np.shares_memory(inplace.momenta, buffers)


def test_entropy_at_extreme_magnitudes_equals_that_of_small_integers():
    # integer entries scale by 2^k exactly, even into the subnormal range (down to 2^-1074)
    base = np.array([[1.0, 2.0, 3.0, 0.0, 1023.0], [5.0, 5.0, 5.0, 5.0, 1.0]])
    for kind in et.ENTROPY_KINDS:
        want = reference_entropy(base, kind)
        tol = 4 * np.finfo(float).eps * (1 + np.log2(5)) * (1 + want)  # as in check_step
        for k in (-1064, -1000, -600, -200, 0, 200, 600, 1000):
            assert_within(np.abs(et.gradient_entropy(np.ldexp(base, k), kind) - want), tol, k)
        mixed = np.stack([np.ldexp(base[0], -1064), np.zeros(5), np.ldexp(base[1], 1000),
                          base[0]])
        expected = np.array([want[0], np.log(5), want[1], want[0]])  # zero row: log d
        assert_within(np.abs(et.gradient_entropy(mixed, kind) - expected), tol[[0, 1, 1, 0]],
                      "mixed rows")
        mixed32 = np.stack([np.ldexp(base[0], -140), np.zeros(5), np.ldexp(base[1], 100),
                            base[0]]).astype(np.float32)  # float32 subnormals, near-overflow
        ht32 = et.normalized_entropy(mixed32, kind)
        assert ht32.dtype == np.float32
        assert_within(np.abs(ht32 - expected / np.log(5)), 8 * np.finfo(np.float32).eps,
                      "float32")


def test_nonfinite_gradients_raise_before_the_buffers_change():
    opt = et.EMC(K=3, lr=0.1)
    state = opt.init(np.zeros((2, 4)))
    _, state = opt.update(np.ones((2, 4)), state, inplace=True)
    saved = state.momenta.copy()
    for bad in (np.nan, np.inf):
        g = np.ones((2, 4))
        g[1, 2] = bad
        with pytest.raises(et.NonFiniteGradientError, match=r"runs .*\[1\]"):
            opt.update(g, state, inplace=True)
        np.testing.assert_array_equal(state.momenta, saved)


def test_workspaces_follow_shapes_threads_and_copies():
    rng = np.random.default_rng(2)
    grads = {B: rng.standard_normal((4, B, 30)) for B in (5, 3)}

    def run(opt, B):
        state = opt.init(np.zeros((B, 30)))
        out = []
        for g in grads[B]:
            u, state = opt.update(g, state, inplace=True)
            out.append(u)
        return np.stack(out)

    fresh = {B: run(et.EMC(K=3, lr=0.1), B) for B in grads}
    shared = et.EMC(K=3, lr=0.1)
    for B in (5, 3, 5):  # the runner shrinks batches as runs stop: the workspace must follow
        np.testing.assert_array_equal(run(shared, B), fresh[B])
    results = {}
    threads = [threading.Thread(target=lambda B=B: results.__setitem__(B, run(shared, B)))
               for B in (5, 3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for B in grads:
        np.testing.assert_array_equal(results[B], fresh[B])
    for clone in (pickle.loads(pickle.dumps(shared)), copy.deepcopy(shared)):
        assert clone == shared
        np.testing.assert_array_equal(run(clone, 5), fresh[5])


def test_apply_reading_matches_signed_powers():
    mt = np.array([[-8.0, 0.0, 0.25], [3.0, -1e-300, 1e200]])
    gamma = np.array([1.5, 2.0])
    for reading, e in (("power", gamma), ("root", 1 / gamma), ("linear", np.ones(2))):
        with np.errstate(over="ignore"):
            want = np.sign(mt) * np.abs(mt) ** e[:, None]
        got = et.apply_reading(mt.copy(), gamma, reading)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


# ------------------------------------------------------------------- the pure path's buffers


def _address(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


def test_pure_steps_never_write_what_the_caller_holds():
    """Whatever the caller keeps (a state, a view of a state's buffers, the momenta array alone)
    stays as it was while the pure ``update`` goes on, and every step equals the in-place step
    from the same values (an independent copy)."""
    rng = np.random.default_rng(3)
    opt = et.EMC(K=3, lr=0.1, reading="power")
    state = opt.init(np.zeros(40))
    kept, copies = [], []
    for t in range(12):
        g = rng.standard_normal(40)
        twin = et.EMCState(state.count, state.momenta.copy())
        u, state = opt.update(g, state)
        u_twin, twin = opt.update(g, twin, inplace=True)
        np.testing.assert_array_equal(u, u_twin)
        np.testing.assert_array_equal(state.momenta, twin.momenta)
        holder = (state, state.momenta[1], state.momenta, state.momenta[:, ::3])[t % 4]
        if t % 3 == 0:   # keep some (a state, a view, the array, a strided view), drop the rest
            kept.append(holder)
            copies.append(np.array(holder.momenta if isinstance(holder, et.EMCState)
                                   else holder))
    for holder, copy_ in zip(kept, copies):
        now = holder.momenta if isinstance(holder, et.EMCState) else holder
        np.testing.assert_array_equal(now, copy_)


@pytest.mark.skipif(not emc_module._can_recycle(), reason="no reference counts to trust here")
def test_pure_steps_recycle_the_buffers_the_caller_dropped():
    """In ``u, state = opt.update(g, state)`` the new state lands in the buffers of the state
    two steps back (dropped by the caller), alternating between two arrays; while the caller
    holds the old states, every step gets new memory; a spare of another shape is not used."""
    rng = np.random.default_rng(4)
    opt = et.EMC(K=2, lr=0.1)
    state = opt.init(np.zeros((3, 8)))
    seen = []
    for _ in range(6):
        _, state = opt.update(rng.standard_normal((3, 8)), state)
        seen.append(_address(state.momenta))
        assert state.momenta.base is None and state.momenta.flags.owndata
    assert seen[2:] == seen[:2] * 2
    held = [state]
    for _ in range(4):
        _, state = opt.update(rng.standard_normal((3, 8)), state)
        held.append(state)
    assert len({_address(s.momenta) for s in held}) == len(held)
    other = opt.init(np.zeros((2, 8)))      # another shape: the (3, 8) spare is dropped
    _, other = opt.update(rng.standard_normal((2, 8)), other)
    assert other.momenta.shape == (2, 2, 8)


def test_recycling_is_off_without_reference_counts(monkeypatch):
    """Where reference counts cannot be trusted the pure step keeps no spare and allocates."""
    reference = et.EMC(K=2, lr=0.1)
    monkeypatch.setattr(emc_module, "_can_recycle", lambda: False)
    opt = et.EMC(K=2, lr=0.1)
    state, want = opt.init(np.zeros(6)), reference.init(np.zeros(6))
    for t in range(4):
        u, state = opt.update(np.arange(6.0) - t, state)
        assert getattr(opt._workspaces._local, "spare", None) is None
        u_want, want = reference.update(np.arange(6.0) - t, want, inplace=True)
        np.testing.assert_array_equal(u, u_want)
        np.testing.assert_array_equal(state.momenta, want.momenta)


def test_the_spare_is_per_thread_and_not_copied():
    opt = et.EMC(K=2, lr=0.1)
    state = opt.init(np.zeros(5))
    _, state = opt.update(np.ones(5), state)
    assert copy.deepcopy(opt)._workspaces._local.__dict__ == {}
    assert pickle.loads(pickle.dumps(opt))._workspaces._local.__dict__ == {}
    seen = {}

    def other_thread():
        seen["spare"] = getattr(opt._workspaces._local, "spare", None)
    th = threading.Thread(target=other_thread)
    th.start()
    th.join()
    assert seen["spare"] is None
