"""paperlab.modality: every sympy identity, every loss on known small tensors, bad inputs, the experiment plumbing."""

import json
import math

import numpy as np
import pytest
import sympy as sp
import torch
from _helpers import no_torchrun, reversed_order, usage_error
from paperlab import modality as M
from paperlab.modality import theory as T
from paperlab.worlds import shapes


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def zero(expr) -> bool:
    return sp.simplify(expr) == 0


# ----------------------------------------------------------------------------- theory


@pytest.fixture(scope="module")
def proof():
    """Every step of the derivation once (sympy takes a few seconds)."""
    return {"log": T.lemma_log_inequality(), "gibbs": T.lemma_gibbs(), "step1": T.step1_best_predictor(),
            "step2": T.step2_identity(), "merge": T.lemma_merge(), "theorem": T.theorem()}


def test_lemma1_log_inequality(proof):
    L = proof["log"]
    t = L["t"]
    assert L["critical"] == [1] and L["convex"] and L["f_at_1"] == 0 and L["minimum"] == 0
    assert zero(L["f2"] - 1 / t**2)
    assert all(float(L["f"].subs(t, x)) > 0 for x in (1e-3, 0.5, 2.0, 50.0))


def test_lemma2_gibbs_general_alphabet(proof):
    G = proof["gibbs"]
    assert G["summand_residual"] == 0 and G["sum_residual"] == 0
    rng = np.random.default_rng(1)
    for n in (2, 3, 7):
        p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        assert (p * np.log(p / q)).sum() >= 0
        assert (p * np.log(p / q)).sum() == pytest.approx((p * (q / p - 1 - np.log(q / p))).sum() + 1 - q.sum(), abs=1e-12)
    assert T.zero_cell_limit() == 0


def test_step1_best_predictor_is_the_true_conditional(proof):
    S = proof["step1"]
    assert S["cell_residual"] == 0 and S["sum_residual"] == 0
    # numerically: any other predictor h has a higher expected CE, by exactly the weighted KL
    rng = np.random.default_rng(2)
    J = rng.dirichlet(np.ones(12)).reshape(3, 4)
    h = rng.dirichlet(np.ones(4), size=3)
    ce_h = -(J * np.log(h)).sum()
    cond = J / J.sum(1, keepdims=True)
    kl = (J.sum(1) * (cond * np.log(cond / h)).sum(1)).sum()
    assert ce_h == pytest.approx(T.conditional_entropy_np(J) + kl, abs=1e-12) and kl > 0


def test_step2_conditional_entropy_identity_general(proof):
    S = proof["step2"]
    assert S["marginalisation_residual"] == 0 and S["cell_residual"] == 0 and S["sum_residual"] == 0
    assert T.step2_table_identity(2, 2) == 0 and T.step2_table_identity(3, 2) == 0


def test_step2_matches_enumeration():
    J = np.array([[0.1, 0.2, 0.05], [0.3, 0.15, 0.2]])
    py = J.sum(0)
    H_y = -(py * np.log(py)).sum()
    assert T.conditional_entropy_np(J) == pytest.approx(H_y - T.mutual_information_np(J), abs=1e-12)
    P = sp.Matrix(2, 3, [sp.nsimplify(v) for v in J.ravel()])
    assert float(T.conditional_entropy(P)) == pytest.approx(T.conditional_entropy_np(J), abs=1e-12)
    assert float(T.mutual_information(P)) == pytest.approx(T.mutual_information_np(J), abs=1e-12)


def test_lemma3_merge_loss_is_the_weighted_kl(proof):
    Mg = proof["merge"]
    assert Mg["column_residual"] == 0 and Mg["sum_residual"] == 0
    rng = np.random.default_rng(3)
    for nx, ny in ((3, 2), (5, 4), (4, 6)):
        J = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        a, b = 1, nx - 1
        Jm = T.merge_rows(J, a, b)
        pa, pb = J[a].sum(), J[b].sum()
        pc = (J[a] + J[b]) / (pa + pb)
        kl = pa * (J[a] / pa * np.log(J[a] / pa / pc)).sum() + pb * (J[b] / pb * np.log(J[b] / pb / pc)).sum()
        loss = T.mutual_information_np(J) - T.mutual_information_np(Jm)
        assert loss == pytest.approx(kl, abs=1e-12) and loss >= 0


def test_lemma4_any_encoder_is_a_sequence_of_merges():
    rng = np.random.default_rng(4)
    for _ in range(20):
        nx, ny = rng.integers(2, 8), rng.integers(2, 5)
        J = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        g = rng.integers(0, 4, size=nx)
        cur, mi = J, [T.mutual_information_np(J)]
        for a, b in T.merge_sequence(g):
            cur = T.merge_rows(cur, a, b)
            mi.append(T.mutual_information_np(cur))
        assert len(cur) == len(set(g.tolist()))
        assert all(x >= y - 1e-12 for x, y in zip(mi, mi[1:]))  # each merge never increases I
        # the merged table is g's table up to the order of rows (a relabelling: I unchanged)
        direct = T.encode_joint(J, g)
        assert sorted(map(tuple, np.round(cur, 12))) == sorted(map(tuple, np.round(direct, 12)))
        assert mi[-1] == pytest.approx(T.mutual_information_np(direct), abs=1e-12)


def test_merge_helpers_reject_bad_input():
    J = np.full((2, 2), 0.25)
    with pytest.raises(ValueError, match="two different rows"):
        T.merge_rows(J, 0, 0)
    with pytest.raises(ValueError, match="code each"):
        T.encode_joint(J, [0])
    with pytest.raises(ValueError, match="at least one"):
        T.merge_sequence([])


def test_theorem_slacks_are_computed_not_defined(proof):
    th = proof["theorem"]
    HY, Iv, It, Iz = th["symbols"]
    assert zero(th["gap_A"] - (Iv - Iz))
    assert zero(th["slack_A"] - (It - Iz))  # >= 0 by Lemma 4 since Z = g_t(X_t)
    assert th["slack_B_check"] == 0  # (B)'s slack is min(I_v, I_t) - I_z
    assert zero(th["slack_B"] - (sp.Min(Iv, It) - Iz))


def test_abs_value_fails_in_A_and_holds_in_B():
    c = T.abs_counterexample()
    assert c["gap_A"] == 0 and zero(c["abs_delta"] - sp.log(2))
    assert float(c["gap_A"]) < float(c["abs_delta"])  # (A) with |.| would be false here
    assert float(c["gap_B"]) >= float(c["abs_delta"])


def test_theorem_by_brute_force_on_random_aligned_worlds():
    v = T.aligned_world_violations(n_worlds=150, seed=5)
    assert v["violation_A"].max() <= 1e-12 and v["violation_B"].max() <= 1e-12
    assert v["gap_A"].max() > 0.05  # the worlds are not trivial: alignment costs something


@pytest.mark.parametrize("q", [0, 0.25, 0.5, 1])
def test_caption_example_exact_matches_enumeration(q):
    ex = T.caption_example(q)
    en = T.enumerate_caption_example(q)
    for key in ("I_v", "I_t", "delta_p"):
        assert float(ex[key]) == pytest.approx(en[key], abs=1e-12)
    assert zero(ex["delta_p"] - (1 - sp.nsimplify(q)) * sp.log(4))
    # the aligned price: log 4 unless captions always name the background; never below the bound
    assert float(ex["H_bg_aligned"]) == pytest.approx(0.0 if q == 1 else math.log(4))
    assert float(ex["H_bg_aligned"]) >= float(ex["delta_p"]) - 1e-12


def test_caption_example_bound_is_tight_at_q0():
    ex = T.caption_example(0, k=2, n_shape=2)
    assert zero(ex["delta_p"] - sp.log(2)) and zero(ex["H_bg_aligned"] - ex["delta_p"])


def test_noisy_channel_tradeoff():
    eta, h, dh, h0, h_half = T.noisy_channel_tradeoff()
    assert zero(dh - sp.log((1 - eta) / eta))
    assert h0 == 0 and zero(h_half - sp.log(2))
    assert all(float(dh.subs(eta, e)) > 0 for e in (0.01, 0.2, 0.49))
    for e in (0.05, 0.3, 0.5):
        assert float(h.subs(eta, e)) == pytest.approx(T.noisy_channel_enumeration(e), abs=1e-12)


def test_gaussian_example():
    g = T.gaussian_example()
    sigma, sv, st = g["sigma"], g["sigma_v"], g["sigma_t"]
    assert zero(g["I_m"] - sp.log(1 + 1 / sigma**2) / 2)
    a, b = g["a"], g["b"]
    assert zero(g["var_diff"] - sp.expand((sp.Matrix([[a, b]]) * g["Q"] * sp.Matrix([a, b]))[0]))
    assert zero(g["det_Q"] - (sv**2 + st**2 + sv**2 * st**2))
    assert g["solution"] == [{a: 0, b: 0}]
    # Monte Carlo check of the variance formula
    rng = np.random.default_rng(0)
    y = rng.standard_normal(200_000)
    xv, xt = y + 0.5 * rng.standard_normal(y.size), y + 2.0 * rng.standard_normal(y.size)
    val = float(g["var_diff"].subs({a: 1.0, b: 0.7, sv: 0.5, st: 2.0}))
    assert np.var(1.0 * xv - 0.7 * xt) == pytest.approx(val, rel=0.02)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_theory_rejects_bad_probabilities(bad):
    with pytest.raises(ValueError, match="probability"):
        T.caption_example(bad)
    with pytest.raises(ValueError, match="probability"):
        T.binary_entropy(bad)
    with pytest.raises(ValueError, match="probability"):
        T.enumerate_caption_example(bad)
    with pytest.raises(ValueError, match="probability"):
        T.entropy([bad, 0.5])


def test_theory_rejects_bad_tables():
    with pytest.raises(ValueError, match="sum to 1"):
        T.mutual_information_np([[0.5, 0.6]])
    with pytest.raises(ValueError, match="same number"):
        T.cross_entropy([0.5, 0.5], [1])


# ----------------------------------------------------------------------------- losses


def _unit(*shape, seed=0):
    return torch.nn.functional.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_alignment_loss_known_values():
    z_v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z_t = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert M.alignment_loss(z_v, z_t).item() == pytest.approx(1.0)  # (2 + 0) / 2
    assert M.alignment_loss(z_v, z_v).item() == 0


def test_separation_loss_zero_for_orthogonal_and_known_value():
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(1)))
    z, u = q[:, :3], q[:, 3:6]  # columns orthogonal over the batch
    assert M.separation_loss(z, u).item() == pytest.approx(0.0, abs=1e-10)
    z = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # Z^T U = [[1, 1], [0, 0]] -> ||.||_F^2 = 2, / B^2 = 0.5
    assert M.separation_loss(z, u).item() == pytest.approx(0.5)


def test_non_collapse_penalises_constant_features_only():
    const = torch.nn.functional.normalize(torch.ones(16, 4), dim=-1)
    assert M.non_collapse_loss(const).item() == pytest.approx(0.5)  # floor 1/sqrt(4), std 0
    spread = torch.cat([torch.eye(4), -torch.eye(4)])
    assert M.non_collapse_loss(spread).item() == pytest.approx(0.0, abs=1e-6)


def test_bridge_mean_var_and_loss_values():
    z_v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z_t = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    mu, var = M.bridge_mean_var(z_v, z_t, 0.25, sigma=2.0)
    torch.testing.assert_close(mu, torch.tensor([[0.75, 0.25], [0.25, 0.75]]))
    torch.testing.assert_close(var, torch.full((2,), 0.25 * 0.75 * 4.0))
    # on-bridge intermediates: NLL 0; contrastive loss = log(1 + exp(-d)) with d = ||mu_1 - mu_2||^2 / (2 var)
    assert M.brownian_bridge_loss(z_v, z_t, mu, 0.25, sigma=2.0, contrastive=False).item() == pytest.approx(0.0)
    d = 0.5 / (2 * 0.75)
    assert M.brownian_bridge_loss(z_v, z_t, mu, 0.25, sigma=2.0).item() == pytest.approx(math.log1p(math.exp(-d)))
    off = mu + torch.tensor([[0.1, 0.0], [0.0, 0.0]])
    nll = M.brownian_bridge_loss(z_v, z_t, off, 0.25, sigma=2.0, contrastive=False).item()
    assert nll == pytest.approx(0.01 / (2 * 0.75) / 2)


@pytest.mark.parametrize("s", [0.0, 1.0, -0.2, 1.3, torch.tensor([0.5, 1.0])])
def test_bridge_rejects_s_outside_open_interval(s):
    z = _unit(2, 4)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        M.brownian_bridge_loss(z, z, z, s)


def test_geometric_consistency_zero_for_identical_geometry():
    z = _unit(6, 5)
    assert M.geometric_consistency_loss(z, z).item() == pytest.approx(0.0, abs=1e-12)
    # a rotation keeps the intra-modal term at zero; a symmetric one (a reflection) also the cross term
    r = torch.diag(torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0]))
    assert M.geometric_consistency_loss(z, z @ r).item() == pytest.approx(0.0, abs=1e-10)
    assert M.geometric_consistency_loss(z, _unit(6, 5, seed=3)).item() > 0.01


def test_geometric_consistency_known_value():
    z_v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z_t = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # intra: I - [[1, 1], [1, 1]] = [[0, -1], [-1, 0]] -> squares sum to 2
    # cross: z_v z_t^T = [[1, 1], [0, 0]], minus its transpose -> [[0, 1], [-1, 0]] -> 2
    assert M.geometric_consistency_loss(z_v, z_t).item() == pytest.approx(4 / 4)


@pytest.mark.parametrize("fn", [M.alignment_loss, M.geometric_consistency_loss])
def test_losses_reject_mismatched_towers(fn):
    with pytest.raises(ValueError, match="shapes of the two towers differ"):
        fn(_unit(4, 8), _unit(4, 6))
    with pytest.raises(ValueError, match="shapes of the two towers differ"):
        fn(_unit(4, 8), _unit(3, 8))
    with pytest.raises(ValueError, match=r"\(B, D\)"):
        fn(_unit(4, 8)[0], _unit(4, 8)[0])


def test_separation_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="same B"):
        M.separation_loss(_unit(4, 8), _unit(5, 8))


def test_arm_validation():
    with pytest.raises(ValueError, match="probability"):
        M.Arm("x", q=1.2)
    with pytest.raises(ValueError, match="lambda_a"):
        M.Arm("x", lambda_a=-1)
    with pytest.raises(ValueError, match="s_range"):
        M.Arm("x", s_range=(0.0, 0.5))
    assert M.Arm("x", q=0.3).policy().p_texture == 0.3


# ----------------------------------------------------------------------------- experiment plumbing


def test_cached_batches_equal_the_world_batches():
    ctx = M._Context(heads=False)
    fn = M._cached_pretrain_batch(shapes.pretrain_batch, ctx)
    pol = M.Arm("a", q=0.5).policy()
    for policy in (pol, M.Arm("b", q=1.0).policy()):
        img, caps = fn(8, 123, policy=policy)
        ref_img, ref_caps = shapes.pretrain_batch(8, 123, policy=policy)
        torch.testing.assert_close(img, ref_img)
        assert caps == ref_caps
    M.clear_render_cache()


def test_retrieval_and_gap_known_values():
    img = torch.eye(3)
    txt = torch.eye(3)
    assert M.retrieval_r1(img, txt, ["a", "b", "c"]) == 1.0
    assert M.retrieval_r1(img, txt[[1, 0, 2]], ["a", "a", "c"]) == 1.0  # duplicate captions count as hits
    g = M.gap_stats(img, txt)
    assert g["gap"] == pytest.approx(0.0) and g["paired_cos"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="differ"):
        M.gap_stats(torch.eye(3), torch.eye(4)[:3])


@pytest.mark.parametrize("arm", [M.Arm("sep", sep=1.0), M.Arm("bb+gc+fa", bb=1.0, gc=1.0, lambda_a=1.0)])
def test_pretrain_arm_runs_and_trains_the_heads(arm):
    model, hist = M.pretrain_arm(arm, seed=0, steps=20, batch_size=8)
    assert len(hist["extra"]) > 0 and all(math.isfinite(v) for v in hist["extra"])
    if arm.sep:
        w = model.sep_heads["v"].weight
        fresh = torch.nn.Linear(w.shape[1], w.shape[0])
        assert not torch.allclose(w, fresh.weight)  # trained (and not the init of a fresh head)
    import paperlab.clip as clip

    assert clip.create_model.__name__ == "create_model"  # nothing global is replaced (hooks are arguments)
    assert shapes.pretrain_batch.__name__ == "pretrain_batch"


def test_committed_results_are_complete_and_reproducible():
    from paperlab.core import assets

    if M.RESULTS not in assets.load_registry():
        pytest.skip("data/modality/results.json not registered yet (run python -m paperlab.modality train)")
    res = M.load_results(retrain=False)
    arms = {a.name for a in M.plan()}
    assert {r["arm"] for r in res["rows"]} == arms
    assert len(res["rows"]) == len(arms) * len(res["seeds"])
    # the reference run: one arm, seed 0, re-trained here must give the committed numbers
    ref = res["reference"]
    model, _ = M.pretrain_arm(M.Arm(**{k: v for k, v in ref["arm"].items() if k != "s_range"}), seed=ref["seed"],
                              steps=ref["steps"], batch_size=ref["batch_size"], lr=res["lr"])
    ev = M.make_evalset(**ref["evalset"])
    got = M.evaluate(model, ev)
    for key in ("gap", "paired_cos", "zs_shape_color"):
        assert got[key] == pytest.approx(ref["metrics"][key], abs=0.03), key
    assert json.dumps(res)  # plain JSON


def test_committed_alignment_results_are_complete():
    from paperlab.core import assets

    name = M.results_name("alignment")
    if name not in assets.load_registry():
        pytest.skip(f"data/{name} not registered yet (run python -m paperlab.modality train --plan alignment)")
    res = M.load_results(retrain=False, plan_name="alignment")
    grid = M.load_results(retrain=False)
    arms = {a.name for a in M.plan("alignment")}
    assert {r["arm"] for r in res["rows"]} == arms and len(res["rows"]) == len(arms) * len(res["seeds"])
    # the notebook compares the two plans' plain arms and floors: same steps, batch, seeds and random inits
    assert (res["steps"], res["batch_size"], res["seeds"]) == (grid["steps"], grid["batch_size"], grid["seeds"])
    for a, b in zip(res["random_init"], grid["random_init"]):  # same initialisations; probe fits agree to ~1e-4
        assert a["seed"] == b["seed"] and a["zs_shape_color"] == pytest.approx(b["zs_shape_color"], abs=1e-3)
        assert a["probe_background_ce"] == pytest.approx(b["probe_background_ce"], abs=1e-3)
    assert all(r["ramp"] == M.RAMP_FRACTION for r in res["rows"] if r["lambda_a"] > 0)


# ----------------------------------------------------------------------------- the train command (shared CLI)

_TIMING = ("train_s", "wall_s")


def _rows(res: dict) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in _TIMING} for r in res["rows"]]


def test_two_worker_processes_give_the_sequential_results():
    arms = [M.Arm("plain"), M.Arm("+geometric", gc=1.0)]
    ev = M.make_evalset(n_probe_train=64, n_probe_test=64, n_retrieval=40)
    kw = dict(arms=arms, seeds=(0, 1), steps=4, batch_size=8, ev=ev, progress=False, reference=False)
    seq = M.train_all(workers=1, **kw)
    assert [(r["arm"], r["seed"]) for r in seq["rows"]] == [("plain", 0), ("+geometric", 0), ("plain", 1),
                                                            ("+geometric", 1)]  # seed-major, plan order
    assert [f["seed"] for f in seq["random_init"]] == [0, 1]
    assert seq["rows"][0]["paired_cos"] != seq["rows"][2]["paired_cos"]  # the seeds differ
    par = M.train_all(workers=2, **kw)  # each seed in its own spawned process, with an empty render cache
    assert _rows(par) == _rows(seq) and par["random_init"] == seq["random_init"]

    assert _rows(M.train_all(mapper=reversed_order, **kw)) == _rows(seq)


def test_train_command_passes_the_shared_cli_layout(monkeypatch, tmp_path, capsys):
    from paperlab.core import cli

    no_torchrun(monkeypatch)
    calls = []

    def fake(retrain=None, **kw):  # records the call; trains nothing
        calls.append(dict(retrain=retrain, **kw))
        return {"rows": [{}] * 4, "wall_s": 1.0}

    monkeypatch.setattr(M, "load_results", fake)
    assert M.main(["train", "--profile", "cpu", "--workers", "2", "--seeds", "1", "2", "--steps", "7"]) == 0
    (call,) = calls
    assert call["retrain"] is True and call["seeds"] == (1, 2) and call["steps"] == 7 and call["batch_size"] == 64
    run = call["mapper"].__self__  # the shared CLI's Run.map spreads the seeds
    assert isinstance(run, cli.Run) and (run.workers, run.profile.name, run.device) == (2, "cpu", "cpu")
    assert "4 runs" in capsys.readouterr().out
    assert cli.uses_shared_cli("modality")
    M.main(["train", "--profile", "gpu", "--device", "cpu"])  # one size: gpu trains the cpu plan, with a note
    assert calls[-1]["seeds"] == (0, 1, 2) and "no gpu size" in capsys.readouterr().out
    # --out: train_all's results go to that file, and nothing is registered (load_results is not called)
    monkeypatch.setattr(M, "train_all", lambda **kw: {"rows": [{"seed": s} for s in kw["seeds"]], "wall_s": 2.0})
    out = tmp_path / "r.json"
    M.main(["train", "--profile", "cpu", "--seeds", "5", "--out", str(out)])
    assert len(calls) == 2 and json.loads(out.read_text())["rows"] == [{"seed": 5}]
    assert M.main(["train", "--profile", "cpu", "--plan", "alignment", "--seeds", "0"]) == 0
    assert calls[-1]["plan_name"] == "alignment" and "modality/alignment.json" in capsys.readouterr().out


def test_plans_and_lambda_ramp():
    assert [a.name for a in M.plan("alignment")] == [M.arm_name(0.5, 0.0)] + [M.ramp_name(q) for q in M.RAMP_QS]
    assert len(M.plan("grid")) == 12 and M.results_name("grid") == M.RESULTS
    with pytest.raises(ValueError, match="unknown plan"):
        M.plan("nope")
    arm = M.Arm("r", lambda_a=3.0, ramp=0.5)
    lams = [M.lambda_schedule(arm, s, 10) for s in range(10)]
    assert lams[0] == pytest.approx(0.6) and lams[4:] == [3.0] * 6 and lams == sorted(lams)
    assert M.lambda_schedule(M.Arm("c", lambda_a=3.0), 0, 10) == 3.0  # no ramp: constant
    with pytest.raises(ValueError, match="step"):
        M.lambda_schedule(arm, 10, 10)
    with pytest.raises(ValueError, match="ramp"):
        M.Arm("bad", ramp=1.5)


@pytest.mark.parametrize("argv, message", [
    (["train", "--workers", "0"], "positive integer"),
    (["train", "--profile", "smoke"], "one size"),
    (["train", "--profile", "cpu", "--steps", "0"], "positive integer"),
    (["train", "--profile", "cpu", "--seeds", "1", "1"], "duplicates"),
    (["train", "--profile", "cpu", "--device", "cuda:0"], "CUDA"),
    (["train", "--profile", "cpu", "--parallel", "data"], "invalid choice"),
    (["evaluate"], "invalid choice"),
])
def test_train_command_bad_options_are_clear_errors(monkeypatch, capsys, argv, message):
    no_torchrun(monkeypatch)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(M, "load_results", lambda **kw: pytest.fail("must not train"))
    assert message in usage_error(M.main, argv, capsys)


@pytest.fixture
def tmp_data(tmp_path, monkeypatch):
    """A scratch data/ folder (and registry) so nothing under the repository's data/ is touched."""
    from paperlab.core import assets, paths

    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path)
    monkeypatch.setattr(assets, "data_dir", lambda: tmp_path)
    (tmp_path / "modality").mkdir()
    return tmp_path


@pytest.mark.parametrize("bad", [b"\xff\xfe\x00 not text", b'{"rows": [1, 2', b"[1, 2, 3]"],
                         ids=["not-utf8", "truncated-json", "not-a-results-dict"])
def test_corrupt_results_give_a_clear_error(tmp_data, bad):
    """#22: a damaged results.json (even one re-registered with its sha256) names the file and both fixes."""
    from paperlab.core import assets

    (tmp_data / M.RESULTS).write_bytes(bad)
    assets.register(M.RESULTS, command=M.COMMAND)  # the sha256 matches: only the content is wrong
    with pytest.raises(assets.AssetError) as err:
        M.load_results(retrain=False)
    msg = str(err.value)
    assert "data/modality/results.json" in msg and "git checkout -- data/modality/results.json" in msg
    assert "python -m paperlab.modality train" in msg
    assert not isinstance(err.value.__cause__, assets.AssetError)  # the raw decode error is only the cause


def test_results_changed_after_registering_give_the_checkout_fix(tmp_data):
    from paperlab.core import assets

    (tmp_data / M.RESULTS).write_text('{"rows": []}')
    assets.register(M.RESULTS, command=M.COMMAND)
    (tmp_data / M.RESULTS).write_bytes(b"\x00\x01garbage")  # corrupted after registering: a sha256 mismatch
    with pytest.raises(assets.AssetError, match=r"git checkout -- data/modality/results.json"):
        M.load_results(retrain=False)


def test_results_are_written_atomically(tmp_data, monkeypatch):
    """#22: the results JSON goes through core.io.atomic_write_text, and what it wrote reads back."""
    from paperlab.core import io as pio

    fake = {"rows": [{"arm": "a", "seed": 0}], "seeds": [0], "wall_s": 1.0, "steps": 1, "batch_size": 2}
    monkeypatch.setattr(M, "train_all", lambda **kw: fake)
    written = []
    real = pio.atomic_write_text
    monkeypatch.setattr(pio, "atomic_write_text", lambda path, text, **kw: written.append(path) or real(path, text, **kw))
    assert M.load_results(retrain=True) == fake
    assert written[0] == tmp_data / M.RESULTS  # (then the registry, which core writes the same way)
    assert M.load_results(retrain=False) == fake  # registered with its sha256, read back through read_results
    assert not list((tmp_data / "modality").glob(".*.tmp"))  # no temporary file left behind


def test_exercise_checkers_right_and_wrong_answers():
    """modality.check_exercise: right answers correct, `...` not attempted, plausible wrong answers rejected."""
    from paperlab.core import checks

    for n in range(1, 6):
        assert M.check_exercise(n, ...) == checks.NOT_ATTEMPTED
    log = math.log
    assert M.check_exercise(1, 0.5 * log(4)) == checks.CORRECT
    assert M.check_exercise(1, log(4)) == checks.INCORRECT  # the aligned price, not the gap
    assert M.check_exercise(1, 0.5) == checks.INCORRECT  # (1 - q) without log k
    assert M.check_exercise(2, log(4)) == checks.CORRECT
    assert M.check_exercise(2, 0.5 * log(4)) == checks.INCORRECT  # the bound Delta_p, not H(Y2|Z)
    assert M.check_exercise(2, 0.0) == checks.INCORRECT  # "the image shows the background"
    assert M.check_exercise(3, log(9)) == checks.CORRECT
    assert M.check_exercise(3, log(0.9 / 0.1) / 2) == checks.INCORRECT
    assert M.check_exercise(3, 0.1 * log(0.1) + 0.9 * log(0.9)) == checks.INCORRECT  # -h(0.1), not h'(0.1)
    assert M.check_exercise(4, 0.5 * log(2 / 1.25)) == checks.CORRECT
    assert M.check_exercise(4, 0.5 * log(2) - 0.5 * log(1.5)) == checks.INCORRECT  # 1/sigma instead of 1/sigma^2
    assert M.check_exercise(4, log(2 / 1.25)) == checks.INCORRECT  # forgot the 1/2
    assert M.check_exercise(5, M.geometric_consistency_loss) == checks.CORRECT
    assert M.check_exercise(5, lambda zv, zt: (zv @ zv.T - zt @ zt.T).pow(2).mean()) != checks.CORRECT  # intra only
    assert M.check_exercise(5, lambda zv, zt: (zv @ zt.T - zt @ zv.T).pow(2).sum()) != checks.CORRECT  # sum, cross only
    with pytest.raises(ValueError, match="1-5"):
        M.check_exercise(6, 0.0)
