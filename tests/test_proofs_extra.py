"""The two derivations added for claims C1 and N1, checked against independent numbers."""
import numpy as np
import pytest

import emc_theory as et
from proofs import op_count, reading_regularity


def test_op_count_ratios_match_hand_count():
    d = op_count.derive()
    assert d.results["degree_in_d"].value == 1 and d.results["degree_in_K"].value == 1
    ratios = d.results["ratio_to_momentum"].value
    # (5K + 12) d / 4d for power and root, (5K + 7) d / 4d for linear, as d -> oo
    for K in (3, 5):
        assert ratios["power"][str(K)] == pytest.approx((5 * K + 12) / 4)
        assert ratios["linear"][str(K)] == pytest.approx((5 * K + 7) / 4)


@pytest.mark.parametrize("gamma", [1.2, 1.5, 1.9])
def test_reading_slopes_against_finite_differences_of_the_core(gamma):
    d = reading_regularity.derive().results
    assert d["root_slope_at_zero_infinite"].value is True
    assert d["power_not_globally_lipschitz"].value is True

    def slope(reading, m, h=1e-7):
        f = [et.apply_reading(np.array([x]), np.asarray(gamma), reading)[0] for x in (m - h * m,
                                                                                        m + h * m)]
        return (f[1] - f[0]) / (2 * h * m)

    # finite differences of the core equal e m^(e-1) (e = gamma, 1/gamma), and their trends are
    # the derivation's limits: root's slope grows without bound as m -> 0+, power's vanishes at 0
    # and grows without bound at large m
    for reading, e in (("power", gamma), ("root", 1 / gamma)):
        for m in (1e-12, 1e-6, 1.0, 1e6, 1e12):
            assert slope(reading, m) == pytest.approx(e * m ** (e - 1), rel=1e-5)
    assert slope("root", 1e-12) > slope("root", 1e-6) > slope("root", 1.0)
    assert slope("power", 1e-12) < slope("power", 1e-6) < slope("power", 1.0) < slope("power", 1e12)
    assert slope("linear", 1e-12) == pytest.approx(1.0)
    assert slope("linear", 1e12) == pytest.approx(1.0)
