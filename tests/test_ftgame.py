"""paperlab.ftgame: closed forms against brute force, exact values, symmetry, regimes, bad input."""

import numpy as np
import pytest
import sympy as sp
from paperlab.ftgame import (
    A0,
    A1,
    C0,
    C1,
    DELTA,
    NotConcaveError,
    bargaining_bruteforce,
    bargaining_solutions,
    best_response,
    check_share,
    egalitarian_share,
    hold_up,
    ideal_shares,
    multi_bruteforce,
    pareto_common_delta,
    pareto_interval,
    pareto_mask,
    payoffs_bruteforce,
    power_family,
    quadratic_callables,
    quadratic_spe,
    regime_conditions,
    runs,
    solve_multi,
    solve_spe,
    spe_bruteforce,
    utilitarian_share,
)
from paperlab.ftgame import exercises as ex


def _closed_payoffs(c0, c1):
    spe = quadratic_spe()
    f = sp.lambdify((DELTA, C0, C1), [spe.U_G, spe.U_D, spe.alpha1])
    return lambda d: tuple(np.broadcast_to(np.asarray(v, float), np.shape(d)) for v in f(d, c0, c1))


def test_quadratic_spe_matches_the_card_closed_forms():
    spe = quadratic_spe()
    assert sp.simplify(spe.alpha0 - DELTA / (2 * C0)) == 0
    assert sp.simplify(spe.alpha1 - (DELTA / (2 * C0) + (1 - DELTA) / (2 * C1))) == 0
    assert sp.simplify(spe.U_G - (DELTA**2 / (4 * C0) + DELTA * (1 - DELTA) / (2 * C1))) == 0
    assert sp.simplify(spe.U_D - ((1 - DELTA) ** 2 / (4 * C1) + DELTA * (1 - DELTA) / (2 * C0))) == 0
    assert spe.d_stage.interior_certified and spe.g_stage.interior_certified


def test_symmetry_c0_c1_swaps_players_and_mirrors_delta():
    spe = quadratic_spe()
    swap = {C0: C1, C1: C0, DELTA: 1 - DELTA}
    assert sp.simplify(spe.U_G.subs(swap, simultaneous=True) - spe.U_D) == 0
    assert sp.simplify(spe.U_D.subs(swap, simultaneous=True) - spe.U_G) == 0
    a, b = bargaining_solutions(1, 2), bargaining_solutions(2, 1)
    for k in ("utilitarian", "egalitarian", "nash", "kalai_smorodinsky", "max_alpha1"):
        assert sp.simplify(a[k] - (1 - b[k])) == 0, k


def test_spe_matches_bruteforce_on_random_draws():
    rng = np.random.default_rng(0)
    spe = quadratic_spe()
    f = sp.lambdify((DELTA, C0, C1), [spe.alpha0, spe.alpha1, spe.U_G, spe.U_D])
    for _ in range(4):
        c0, c1, d = rng.uniform(0.3, 5), rng.uniform(0.3, 5), rng.uniform(0.02, 0.98)
        o = spe_bruteforce(d, *quadratic_callables(c0, c1))
        np.testing.assert_allclose([o.alpha0, o.alpha1, o.U_G, o.U_D], f(d, c0, c1), atol=1e-7)


def test_exact_values_from_the_card():
    s = bargaining_solutions(1, 2)
    assert s["utilitarian"] == sp.Rational(2, 3)  # exact rational
    assert sp.simplify(s["egalitarian"] - 1 / sp.sqrt(3)) == 0
    assert abs(float(s["nash"]) - 0.6228) < 1e-4
    assert sp.simplify(s["nash"] - (2 + sp.sqrt(13)) / 9) == 0
    assert abs(float(s["kalai_smorodinsky"]) - 0.6991) < 1e-4
    assert s["max_alpha1"] == 1
    t = bargaining_solutions(1, 5)
    assert t["utilitarian"] == sp.Rational(5, 6)
    for k, v in {"nash": 0.7039, "egalitarian": 0.6319, "kalai_smorodinsky": 0.7679}.items():
        assert abs(float(t[k]) - v) < 1e-4, k
    dG, dD = ideal_shares()
    assert dD.subs({C0: 1, C1: 2}) == sp.Rational(1, 3) and dG.subs({C0: 1, C1: 2}) == 1
    assert utilitarian_share().subs({C0: 1, C1: 2}) == sp.Rational(2, 3)
    assert egalitarian_share().subs({C0: 3, C1: 3}) == sp.Rational(1, 2)


@pytest.mark.parametrize("c0,c1", [(1, 2), (2, 1), (1, 5), (3, 1), (1, 1)])
def test_bargaining_closed_forms_match_search_over_delta(c0, c1):
    got = bargaining_bruteforce(_closed_payoffs(float(c0), float(c1)))
    want = bargaining_solutions(c0, c1)
    for k, v in want.items():
        if v is not sp.nan:
            assert abs(got[k] - float(v)) < 1e-6, (k, got[k], v)


def test_nested_bruteforce_payoffs_match_closed_forms():
    d = np.array([0.0, 0.3, 1.0])  # the corners: delta = 0 (G invests nothing), delta = 1 (D free-rides)
    got, want = payoffs_bruteforce(1.0, 2.0)(d), _closed_payoffs(1.0, 2.0)(d)
    np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-7)


def test_pareto_interval_matches_dominance_on_a_grid():
    deltas = np.linspace(0, 1, 1001)
    for c0, c1 in [(1, 2), (2, 1), (1, 10), (10, 1), (1, 1)]:
        U = np.stack(_closed_payoffs(float(c0), float(c1))(deltas)[:2], axis=1)
        m = pareto_mask(U)
        lo, hi = (float(e.subs({C0: c0, C1: c1})) for e in pareto_interval())
        assert abs(deltas[m].min() - lo) <= 1e-3 and abs(deltas[m].max() - hi) <= 1e-3
        assert np.any(m & (deltas > 0) & (deltas < 1))  # strict profit sharing is Pareto optimal


def test_hold_up_ratio_is_three_quarters_at_equal_costs():
    vm, W_best, ratio = hold_up()
    assert sp.simplify(vm["W"] - (1 / (4 * C0) + 1 / (4 * C1))) == 0
    assert ratio.subs({C0: 2, C1: 2}) == sp.Rational(3, 4)


def test_cubic_best_response_and_the_exercise_checks():
    st = best_response((1 - DELTA) * A1 - C1 * (A1 - A0) ** 3, A1, lower=A0)
    assert ex.check_3(st.response) == "correct"
    assert ex.check_3(...) == "not attempted"
    roots = sp.solve(sp.diff((1 - DELTA) * A1 - C1 * (A1 - A0) ** 3, A1), A1)
    assert ex.check_3(roots) == "incorrect"  # the whole list from sp.solve: a verdict, not a TypeError
    assert sorted(ex.check_3(r) for r in roots) == ["correct", "incorrect"]
    assert ex.check_3(A0 + (1 - DELTA) / (2 * C1)) == "incorrect"  # the quadratic-cost reply


def test_exercise_checkers_right_and_wrong_answers(capsys):
    assert ex.check_1(float(utilitarian_share().subs({C0: 1, C1: 1}))) == "correct"
    assert ex.check_1(1.0) == "incorrect" and ex.check_1(2 / 3) == "incorrect"  # a corner; the (1, 2) share
    assert ex.check_2(float(hold_up()[2].subs({C0: 1, C1: 3}))) == "correct"
    assert ex.check_2(0.75) == "incorrect" and ex.check_2(0.25) == "incorrect"  # equal costs; the hold-up loss
    nash20 = float(bargaining_solutions(1, 20)["nash"])
    assert ex.check_4(1 - nash20) == "correct"
    assert ex.check_4(nash20) == "incorrect" and ex.check_4(0.5) == "incorrect"  # G's share; an equal split
    assert ex.check_5("free-ride") == "correct" and ex.check_5(None) == "not attempted"
    assert ex.check_5("contribute") == "incorrect" and ex.check_5("abstain") == "incorrect"


def test_check_exercise_dispatches_to_the_checkers():
    """ftgame.check_exercise(n, answer): the course's one convention, the same verdicts as exercises.check_n."""
    import paperlab.ftgame as ftgame

    for n in range(1, 6):
        assert ftgame.check_exercise(n, ...) == "not attempted"
    assert ftgame.check_exercise(1, 0.5) == "correct" and ftgame.check_exercise(1, 1.0) == "incorrect"
    assert ftgame.check_exercise(2, 13 / 16) == "correct" and ftgame.check_exercise(2, 0.75) == "incorrect"
    assert ftgame.check_exercise(3, A0 + sp.sqrt((1 - DELTA) / (3 * C1))) == "correct"
    assert ftgame.check_exercise(3, A0 - sp.sqrt((1 - DELTA) / (3 * C1))) == "incorrect"
    assert ftgame.check_exercise(5, "free-ride") == "correct" and ftgame.check_exercise(5, "abstain") == "incorrect"
    with pytest.raises(ValueError, match="1-5"):
        ftgame.check_exercise(6, 0.5)
    assert isinstance(ftgame.SOLUTIONS, dict) and sorted(ftgame.SOLUTIONS) == [1, 2, 3, 4, 5]
    assert ftgame.BARGAINING_SOLUTIONS[:3] == ("utilitarian", "egalitarian", "nash")


def test_exercise_hints_only_after_an_attempt(capsys):
    for check in (ex.check_1, ex.check_2, ex.check_3, ex.check_4, ex.check_5):
        assert check(...) == "not attempted"
        out = capsys.readouterr().out
        assert "—" not in out, f"{check.__name__} printed a hint before any attempt: {out!r}"
    ex.check_2(0.75)
    assert "equal costs" in capsys.readouterr().out


def test_power_family_solves_in_closed_form():
    spe = solve_spe(*power_family(3))
    assert sp.simplify(spe.alpha0 - sp.sqrt(DELTA / (3 * C0))) == 0


def test_multi_matches_bruteforce_and_regime_conditions():
    rng = np.random.default_rng(1)
    cond = regime_conditions()
    seen = set()
    for _ in range(4):
        args = (rng.uniform(0.5, 2), rng.uniform(0.2, 0.8), rng.uniform(0.5, 3, 3), rng.uniform(0, 1, 3),
                rng.uniform(0, 1.5, 3), rng.uniform(0.5, 2, 3))
        s, b = solve_multi(*args), multi_bruteforce(*args)
        assert s.regimes == b.regimes and abs(s.U_G - b.U_G) < 1e-6
        seen |= set(s.regimes)
        for i, r in enumerate(s.regimes):
            sub = dict(zip(sp.symbols("delta_i rho_i kappa_i b_i c_i alpha_0", positive=True),
                           (args[1], args[2][i], args[3][i] + 1e-300, args[4][i] + 1e-300, args[5][i], s.alpha0 + 1e-9)))
            holds = {k: bool(cond[k].subs(sub)) for k in ("contribute", "free-ride")}
            assert r == ("contribute" if holds["contribute"] else "free-ride" if holds["free-ride"] else "abstain")


def test_each_regime_by_construction():
    # domain 0 contributes (no linear cost), 1 free-rides (b too high, small kappa), 2 abstains (huge kappa)
    out = solve_multi(1.0, 0.5, rho=[2.0, 1.0, 1.0], kappa=[0.0, 0.05, 50.0], b=[0.0, 0.6, 0.0], c=[1.0, 1.0, 1.0])
    assert out.regimes == ("contribute", "free-ride", "abstain")


def test_disconnected_pareto_set_with_three_domains():
    rng = np.random.default_rng(1)
    args = (rng.uniform(0.5, 2), rng.uniform(0.5, 3, 3), rng.uniform(0, 1, 3), rng.uniform(0, 1.5, 3),
            rng.uniform(0.5, 2, 3))
    m = pareto_mask(pareto_common_delta(*args, np.linspace(0, 1, 401)))
    assert len(runs(m, min_len=3)) >= 2


def test_runs_helper():
    assert runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], bool)) == [(0, 1), (3, 3), (6, 8)]
    assert runs(np.array([1, 1, 0, 1, 0, 0, 1, 1, 1], bool), min_len=2) == [(0, 1), (6, 8)]


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bad_share_is_rejected(bad):
    with pytest.raises(ValueError, match="delta"):
        check_share(bad)
    with pytest.raises(ValueError, match="delta"):
        spe_bruteforce(bad, *quadratic_callables(1.0, 2.0))
    with pytest.raises(ValueError, match="delta"):
        solve_multi(1.0, bad, [1.0], [0.0], [0.0], [1.0])


@pytest.mark.parametrize("c0,c1", [(0.0, 1.0), (1.0, -2.0)])
def test_bad_costs_are_rejected(c0, c1):
    with pytest.raises(ValueError, match="cost"):
        quadratic_callables(c0, c1)
    with pytest.raises(ValueError, match="cost"):
        solve_multi(c0 if c0 > 0 else 0.0, 0.5, [1.0], [0.0], [0.0], [c1])
    with pytest.raises(ValueError, match="positive"):
        bargaining_solutions(c0, c1) if c0 <= 0 else bargaining_solutions(c1, c0)


def test_non_convex_costs_cannot_be_certified():
    with pytest.raises(NotConcaveError, match="cannot certify"):
        solve_spe(A1, C0 * A0**2, -C1 * (A1 - A0) ** 2)  # concave cost: the FOC point is a minimum
    with pytest.raises(NotConcaveError, match="cannot certify"):
        best_response((1 - DELTA) * A1 - C1 * sp.sin(A1 - A0), A1, lower=A0)
    with pytest.raises(NotImplementedError, match="numerically"):  # concave, but no closed-form root
        best_response((1 - DELTA) * sp.log(1 + A1) - C1 * (A1 - A0) ** 2 - A1 * sp.exp(A1 - A0), A1, lower=A0)
    with pytest.raises(ValueError, match="exponent"):
        power_family(1)
    with pytest.raises(TypeError, match="sympy"):
        solve_spe(lambda a: a, C0 * A0**2, C1 * (A1 - A0) ** 2)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="shape"):
        solve_multi(1.0, 0.5, [1.0, 2.0], [0.0], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="n_players"):
        pareto_mask(np.zeros(5))


def test_spe_grid_matches_closed_form_and_handles_other_families():
    from paperlab.ftgame import spe_grid
    spe = quadratic_spe()
    f = sp.lambdify((DELTA, C0, C1), [spe.alpha0, spe.alpha1, spe.U_G, spe.U_D])
    d = np.array([0.0, 0.37, 1.0])
    g = spe_grid(d, 1.3, 4.0)
    want = [np.broadcast_to(v, d.shape) for v in f(d, 1.3, 4.0)]
    np.testing.assert_allclose([g["alpha0"], g["alpha1"], g["U_G"], g["U_D"]], want, atol=2e-5)
    s3 = solve_spe(*power_family(3))  # cubic costs: a closed form to compare with
    f3 = sp.lambdify((DELTA, C0, C1), [s3.U_G, s3.U_D])
    g3 = spe_grid([0.4], 1.0, 2.0, k=3.0)
    np.testing.assert_allclose([g3["U_G"][0], g3["U_D"][0]], f3(0.4, 1.0, 2.0), atol=2e-5)
    with pytest.raises(ValueError, match="delta"):
        spe_grid([1.2], 1.0, 2.0)


def test_sharing_point_and_its_instrument():
    from paperlab.ftgame import experiment as E
    row = E.sharing_point(1.0, 10.0, 2.0, 1.0, n_delta=51)
    exact = bargaining_solutions(1, 10)
    assert abs(row["nash"] - float(exact["nash"])) < 2e-3 and abs(row["egalitarian"] - float(exact["egalitarian"])) < 2e-3
    assert row["nash_pareto"] and row["egalitarian_pareto"]
    assert min(row["max_alpha1"], 1 - row["max_alpha1"]) < 0.01  # the corner the instrument relies on
    assert row["kept"] == pytest.approx(1 - float(exact["nash"]), abs=2e-3) or row["kept"] == pytest.approx(
        1 - float(exact["egalitarian"]), abs=2e-3)


def test_dominated_by_grid():
    from paperlab.ftgame import dominated_by_grid
    U = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert dominated_by_grid([0.4, 0.4], U) and not dominated_by_grid([0.5, 0.5], U)
    with pytest.raises(ValueError, match="shape"):
        dominated_by_grid([0.1, 0.2, 0.3], U)


def test_regime_counts_ablation_and_strict_pieces():
    from paperlab.ftgame import experiment as E
    rng = np.random.default_rng(0)
    games = [E.draw_multi(rng) for _ in range(6)]
    assert E.regime_counts(games, zero="kappa")["abstain"] == 0
    assert E.regime_counts(games, zero="b")["free-ride"] == 0
    with pytest.raises(ValueError, match="zero"):
        E.regime_counts(games, zero="c")
    U = np.array([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])
    assert E.strict_pareto_mask(U).tolist() == [True, True, True]  # (1, 0) is only weakly dominated
    assert pareto_mask(U).tolist() == [False, True, True]


def test_render_latex_never_prints_raw_roots_or_piecewise():
    from paperlab.ftgame import render
    nash = bargaining_solutions(1, 5)["nash"]
    text = render.latex(nash)
    assert "CRootOf" not in text and "cubic" in text and "0.7039" in text
    assert "Piecewise" not in render.equations([("x", egalitarian_share())])
    assert render.latex(bargaining_solutions(1, 2)["nash"]) == sp.latex(bargaining_solutions(1, 2)["nash"])


def test_derivation_checks_are_small_on_a_few_games():
    """The notebook's D1-D4 (ftgame.derivations): our algebra agrees with the independent solvers."""
    from paperlab.ftgame import derivations as Dv

    assert max(Dv.check_spe(0, 2)) < 1e-6
    assert max(Dv.check_bargains(0, 1)) < 1e-6
    assert max(Dv.check_pareto(0, 2, np.linspace(0, 1, 401))) <= 2 / 400
    assert max(Dv.check_multi(0, 3)) < 1e-4
    assert Dv.draw_quadratic(0, 4).shape == (4, 3)
    ug, ud, a1 = Dv.closed_payoffs(1.0, 2.0)(np.array([0.0, 0.5, 1.0]))
    assert ug.shape == ud.shape == a1.shape == (3,) and ug[0] <= 1e-12  # G earns nothing at delta = 0
    assert Dv.regime_from_conditions(0.5, 1.0, 0.1, 0.6, 1.0, 0.5) == "free-ride"  # exercise 5's domain


def test_regime_map_and_cost_exponent_ablation():
    from paperlab.ftgame import experiment as E

    maps = E.regime_map(np.linspace(0.2, 3, 3), np.linspace(0, 1.2, 3))
    assert maps.shape == (3, 3, 3) and set(np.unique(maps)) <= {0, 1, 2}
    rows, fronts = E.cost_exponent_ablation([2], np.linspace(0, 1, 11))
    assert rows[0]["k"] == "2" and set(fronts) == {"2"}
    assert abs(rows[0]["utilitarian"] - float(utilitarian_share().subs({C0: 1, C1: 2}))) < 1e-4  # the closed form


def test_figures_draw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from paperlab.ftgame import experiment as E
    from paperlab.ftgame import render

    monkeypatch.setattr(plt, "show", lambda: None)
    render.method_figure()
    maps = E.regime_map(np.linspace(0.2, 3, 3), np.linspace(0, 1.2, 3))
    render.regime_map_figure(maps, np.linspace(0.2, 3, 3), np.linspace(0, 1.2, 3))
    render.frontier_explorer(n_deltas=5)
    plt.close("all")
