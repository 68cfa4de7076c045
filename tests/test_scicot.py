import pytest
import torch
from paperlab import scicot as S
from paperlab.core import assets
from paperlab.worlds import sciqa as W


@pytest.fixture(scope="module")
def setup():
    kb, held, tok = S.world()
    train = W.make_questions(kb, held, "train", 64, seed=0, noise=0.1)
    test = W.make_questions(kb, held, "test", 16, seed=1)
    model = S.make_student(tok, seed=0).eval()
    return kb, tok, train, test, model


def _manual_option_logp(model, tok, source, option, prefix=""):
    """Reference: log p(option </s> | source, prefix) from the model's own loss."""
    x = tok([source], return_tensors="pt")
    full = tok([(prefix + " " + option).strip()], return_tensors="pt")["input_ids"]
    n_pre = len(tok(prefix, add_special_tokens=False)["input_ids"]) if prefix else 0
    with torch.no_grad():
        logits = model(**x, labels=full).logits
    logp = torch.log_softmax(logits, -1)[0, torch.arange(full.shape[1]), full[0]]
    return float(logp[n_pre:].sum()), full.shape[1] - n_pre


def test_tokenizer_appends_eos_and_knows_the_world(setup):
    kb, tok, *_ = setup
    ids = tok("(A) nail is iron : yes .")["input_ids"]
    assert ids[-1] == tok.eos_token_id == 1 and tok.pad_token_id == 0
    assert tok.unk_token_id not in ids
    rebuilt = S.tokenizer_from_json(tok.backend_tokenizer.to_str())
    assert rebuilt("which one of these floats on water ?")["input_ids"] == tok(
        "which one of these floats on water ?")["input_ids"]


def test_option_scores_match_the_model_likelihood_and_choose_the_max(setup):
    _, tok, _, test, model = setup
    qs = test[:3]
    src = [S.qa_input(q) for q in qs]
    for red in ("sum", "mean"):
        scores = S.option_scores(model, tok, src, [q.options for q in qs], reduction=red)
        assert scores.shape == (3, 4)
        for i, q in enumerate(qs):
            ref = [_manual_option_logp(model, tok, src[i], o) for o in q.options]
            ref = [s if red == "sum" else s / n for s, n in ref]
            torch.testing.assert_close(scores[i], torch.tensor(ref), atol=1e-4, rtol=1e-4)
            assert S.choose(scores)[i] == int(torch.tensor(ref).argmax())


def test_option_scores_with_a_decoder_prefix_score_only_the_option(setup):
    _, tok, _, test, model = setup
    q = test[0]
    prefix = "(A) nail is iron : yes . answer :"
    scores = S.option_scores(model, tok, [S.qa_input(q)], [q.options], prefixes=[prefix], reduction="sum")
    ref = [_manual_option_logp(model, tok, S.qa_input(q), o, prefix)[0] for o in q.options]
    torch.testing.assert_close(scores[0], torch.tensor(ref), atol=1e-4, rtol=1e-4)


def test_option_scores_bad_input(setup):
    _, tok, _, test, model = setup
    with pytest.raises(ValueError, match="reduction"):
        S.option_scores(model, tok, ["a"], [["x", "y"]], reduction="max")
    with pytest.raises(ValueError, match="K >= 2"):
        S.option_scores(model, tok, ["a"], [[]])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        S.choose(torch.zeros(3))


def test_too_long_rationale_and_empty_split_raise(setup):
    _, tok, train, _, model = setup
    long_rationale = " ".join([train[0].rationale] * 4)
    with pytest.raises(ValueError, match="longer than the model's context"):
        S.encode(tok, [S.answer_input(train[0], long_rationale)], max_len=80)
    with pytest.raises(ValueError, match="empty training split"):
        S.train_seq2seq(model, tok, [], [])
    with pytest.raises(ValueError, match="rationales for"):
        S.fit_stage2(tok, train, [])


def test_stage2_never_sees_teacher_rationales_of_test_questions(setup, monkeypatch):
    _, tok, _, test, model = setup
    seen = []
    real = S.option_scores

    def spy(m, t, sources, *a, **k):
        seen.extend(sources)
        return real(m, t, sources, *a, **k)

    monkeypatch.setattr(S, "option_scores", spy)
    _, rats = S.predict_two_stage(model, model, tok, test[:4])
    assert len(seen) == 4
    for src, q, r in zip(seen, test[:4], rats):
        assert src == S.answer_input(q, r)
        assert q.gold_rationale not in src and q.rationale not in src


def test_shuffled_is_a_derangement_and_fact_recall():
    rats = [f"fact {i} ." for i in range(10)]
    sh = S.shuffled(rats, seed=3)
    assert sorted(sh) == sorted(rats) and all(a != b for a, b in zip(sh, rats))
    gold = "(A) nail is iron : yes . (B) jar is glass : no ."
    assert S.fact_recall([gold], [gold]) == 1.0
    assert S.fact_recall(["(A) nail is iron : yes ."], [gold]) == 0.5
    assert S.split_single_stage("a . b . answer : nail") == "a . b ."


def test_mix_rationales_share():
    t, g = ["t"] * 1000, ["g"] * 1000
    mixed = S.mix_rationales(t, g, 0.5, seed=0)
    assert 400 < mixed.count("g") < 600
    assert S.mix_rationales(t, g, 0.0) == t


def test_a_short_training_run_lowers_the_loss(setup):
    _, tok, train, _, _ = setup
    model = S.make_student(tok, seed=1)
    hist = S.train_seq2seq(model, tok, [S.qa_input(q) for q in train], [S.answer_target(q) for q in train],
                           epochs=4, lr=3e-3, progress=False)
    assert hist.train_loss[-1] < 0.7 * hist.train_loss[0]


def test_committed_checkpoint_reproduces_its_registered_eval():
    name = S.checkpoint_name(0)
    if name not in assets.load_registry():
        pytest.skip("checkpoint not trained yet (python -m paperlab.scicot train)")
    meta = assets.entry(name)
    ckpt = S.load_students_checked(name)
    got = S.quick_eval(*ckpt)
    for k, v in meta["eval"].items():
        assert abs(got[k] - v) < 0.02, (k, got[k], v)


def test_exercise_reference_answers_are_correct(setup):
    from paperlab.core import checks

    _, tok, _, test, _ = setup
    assert checks.check_close("ex1", 0.25, 0.25, rtol=0.01) == "correct"
    assert checks.check_close("ex1", ..., 0.25) == "not attempted"
    s = {"soda can": [-1.0, -0.1, -0.1], "foil": [-0.9, -0.1]}
    ref2 = (max(s, key=lambda k: sum(s[k])), max(s, key=lambda k: sum(s[k]) / len(s[k])))
    opts = [(a, b) for a in ("foil", "soda can") for b in ("foil", "soda can")]
    assert checks.check_choice("ex2", ref2, ("foil", "soda can"), opts) == "correct"
    gold = "(A) nail is iron : yes . (B) jar is glass : no . (C) sock is cotton : no . " \
           "(D) coin is copper : no ."
    gen = gold.replace("sock is cotton", "sock is wood")
    assert checks.check_close("ex3", S.fact_recall([gen], [gold]), 3 / 4, rtol=0.01) == "correct"

    model = S.make_student(tok, seed=3).eval()

    def my_option_logp(source, options):
        x = tok([source], return_tensors="pt")
        out = []
        for o in options:
            y = tok([o], return_tensors="pt")["input_ids"]
            with torch.no_grad():
                out.append(-model(**x, labels=y).loss * y.shape[1])
        return torch.stack(out)

    ref = lambda s_, o_: S.option_scores(model, tok, [s_], [o_], reduction="sum")[0]  # noqa: E731
    inputs = [(S.qa_input(x), S.labelled(x)) for x in test[:3]]
    assert checks.check_function("ex4", my_option_logp, ref, inputs, rtol=1e-4, atol=1e-4) == "correct"

    def todo(source, options):
        raise NotImplementedError

    assert checks.check_function("ex4", todo, ref, inputs) == "not attempted"
