import pytest
import torch
from _helpers import no_torchrun, usage_error
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


@pytest.mark.parametrize("noise", [0.1, 0.0, 0.3])  # main comparison and the noise ablation (seed 0)
def test_committed_checkpoint_reproduces_its_registered_eval(noise):
    name = S.checkpoint_name(0, noise)
    if name not in assets.load_registry():
        pytest.skip("checkpoint not trained yet (python -m paperlab.scicot train)")
    meta = assets.entry(name)
    ckpt = S.load_students_checked(name)
    got = S.quick_eval(*ckpt)
    for k, v in meta["eval"].items():
        assert abs(got[k] - v) < 0.02, (k, got[k], v)
    assert got["oracle_acc"] >= S.ORACLE_MIN  # the instrument: stage 2 reads the gold rationale on held-out questions


def test_exercise_checkers_accept_the_answer_and_reject_plausible_wrong_ones(setup):
    _, tok, _, test, _ = setup
    for n in range(1, 6):
        assert S.check_exercise(n, ...) == "not attempted"
    # 1: one option ruled out on 4-option questions, computed from the questions
    assert S.check_exercise(1, 1 / 3, questions=test) == "correct"
    assert S.check_exercise(1, 0.25, questions=test) == "incorrect"  # plain chance
    assert S.check_exercise(1, 0.5, questions=test) == "incorrect"  # two ruled out
    with pytest.raises(ValueError, match="questions="):
        S.check_exercise(1, 1 / 3)
    # 2: sum picks foil, mean picks soda can
    assert S.check_exercise(2, ("foil", "soda can")) == "correct"
    assert S.check_exercise(2, ("soda can", "foil")) == "incorrect"  # swapped
    assert S.check_exercise(2, ("foil", "foil")) == "incorrect"
    # 3: 3 of 4 gold steps
    assert S.check_exercise(3, 3 / 4) == "correct"
    assert S.check_exercise(3, 1 / 4) == "incorrect"
    assert S.check_exercise(3, 1.0) == "incorrect"
    # 4: summed log-likelihood incl. </s>
    model = S.make_student(tok, seed=3).eval()
    data = dict(model=model, tokenizer=tok, questions=test[:3])

    def make(sign=-1.0, extra=0):
        def fn(m, source, options):
            x = tok([source], return_tensors="pt")
            out = []
            for o in options:
                y = tok([o], return_tensors="pt")["input_ids"]
                with torch.no_grad():
                    out.append(sign * m(**x, labels=y).loss * (y.shape[1] - extra))
            return torch.stack(out)
        return fn

    assert S.check_exercise(4, make(), **data) == "correct"
    assert S.check_exercise(4, make(extra=1), **data) == "incorrect"  # forgot the end token
    assert S.check_exercise(4, make(sign=1.0), **data) == "incorrect"  # the loss, not the log-likelihood

    def todo(m, source, options):
        raise NotImplementedError

    assert S.check_exercise(4, todo, **data) == "not attempted"
    # 5: from the measured ablation
    per = {0: {"two-stage": [0.9, 0.92], "oracle": [1.0, 1.0]}, 30: {"two-stage": [0.7, 0.72], "oracle": [0.99, 0.97]}}
    assert S.bigger_drop(per) == "two-stage"
    assert S.check_exercise(5, "two-stage", noise_per=per) == "correct"
    assert S.check_exercise(5, "oracle", noise_per=per) == "incorrect"
    assert S.check_exercise(5, "neither", noise_per=per) == "incorrect"
    flat = {0: {"two-stage": [0.9], "oracle": [1.0]}, 30: {"two-stage": [0.89], "oracle": [0.995]}}
    assert S.check_exercise(5, "neither", noise_per=flat) == "correct"
    with pytest.raises(ValueError, match="1-5"):
        S.check_exercise(6, 1)


def test_arc_paths_use_the_format_sample_in_the_dry_run(tmp_path):
    paths = S.arc_paths(ARC_SAMPLE.parent)
    assert paths["train"] == paths["test"] == ARC_SAMPLE


def test_offline_pretrained_loads_through_transformers(tmp_path):
    qs = W.load_arc_jsonl(ARC_SAMPLE)
    tok, model = S.load_pretrained(S.offline_pretrained(tmp_path / "m", qs, seed=0))
    assert type(model).__name__ == "T5ForConditionalGeneration" and len(tok) > 10


def test_failed_downloads_say_what_and_how(tmp_path, monkeypatch):
    import urllib.request

    def offline(*a, **k):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    with pytest.raises(RuntimeError, match="ARC-Easy.*by hand"):
        S.fetch_arc_easy(tmp_path / "arc")
    assert not (tmp_path / "arc" / "ARC-V1-Feb2018.zip").exists()


# ---------------------------------------------------------------- gpu profile path, on a tiny saved T5

ARC_SAMPLE = assets.data_dir() / "samples" / "arc" / "ARC-Easy-sample.jsonl"


def _save_tiny_t5(path, seed):
    """A randomly initialised tiny T5 and a tokenizers-trained tokenizer, written with save_pretrained."""
    qs = W.load_arc_jsonl(ARC_SAMPLE)
    tok = S.train_tokenizer([S.cot_prompt(q) for q in qs] + [S.fewshot_prompt(q) for q in qs]
                            + [S.answer_input(q, "", True) for q in qs])
    S.make_student(tok, seed=seed).save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_t5")
    return _save_tiny_t5(root / "student", 0), _save_tiny_t5(root / "teacher", 1)


def test_load_pretrained_uses_transformers_classes_and_round_trips(tiny_dirs):
    from transformers import PreTrainedTokenizerBase, T5ForConditionalGeneration

    tok, model = S.load_pretrained(tiny_dirs[0])
    assert isinstance(model, T5ForConditionalGeneration) and isinstance(tok, PreTrainedTokenizerBase)
    assert not model.training and model.dtype == torch.float32
    _, again = S.load_pretrained(tiny_dirs[0])
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    q = W.load_arc_jsonl(ARC_SAMPLE)[0]
    assert tok.unk_token_id not in tok(S.fewshot_prompt(q))["input_ids"]


def test_gpu_arc_path_runs_end_to_end_on_a_tiny_saved_t5(tiny_dirs):
    student, teacher = tiny_dirs
    cfg = S.ArcConfig(str(ARC_SAMPLE), str(ARC_SAMPLE), student=student, teacher=teacher, seeds=(0,), epochs=2,
                      batch_size=2, max_rationale=8, keep="all", device="cpu")
    out = S.run_arc(cfg, progress=False)
    assert out["n_train"] == out["n_test"] == 4 and out["n_kept"] == 4
    for key in ("teacher_fewshot", "teacher_rationale_acc"):
        assert 0 <= out[key] <= 1
    assert len(out["two_stage"]) == len(out["answer_only"]) == 1 and 0 <= out["two_stage"][0] <= 1
    assert out["examples"][1]["two-stage answer"] in out["examples"][1]["options"]


def test_gpu_arc_path_errors_when_no_teacher_rationale_is_kept(tiny_dirs, monkeypatch):
    student, teacher = tiny_dirs
    monkeypatch.setattr(S, "generate", lambda *a, **k: ["it is hard to say ."] * 4)
    cfg = S.ArcConfig(str(ARC_SAMPLE), str(ARC_SAMPLE), student=student, teacher=teacher, seeds=(0,), device="cpu")
    with pytest.raises(ValueError, match="ends in the gold answer"):
        S.run_arc(cfg, progress=False)
    with pytest.raises(ValueError, match="keep must be"):
        S.ArcConfig("a", "b", keep="some")


def test_parse_answer_and_prompts():
    assert S.parse_answer("metals conduct . so the answer is (C) .", 4) == 2
    assert S.parse_answer("the answer is (A) or maybe the answer is (D)", 4) == 3  # the last conclusion
    assert S.parse_answer("so the answer is (E) .", 4) is None and S.parse_answer("no idea", 4) is None
    q = W.load_arc_jsonl(ARC_SAMPLE)[3]  # 3 options, digit labels in the file
    p = S.fewshot_prompt(q)
    assert p.endswith("(C) It becomes magnetic. answer :") and p.count("answer :") == len(S.FEWSHOT) + 1
    assert S.cot_prompt(q).count("so the answer is") == len(S.FEWSHOT)


def test_fetch_arc_easy_extracts_the_official_layout(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "ARC-V1-Feb2018.zip", "w") as z:
        for m in S.ARC_MEMBERS.values():
            z.writestr(m, ARC_SAMPLE.read_text())
    paths = S.fetch_arc_easy(tmp_path)  # the zip is there: nothing is downloaded
    assert len(W.load_arc_jsonl(paths["train"])) == len(W.load_arc_jsonl(paths["test"])) == 4
    (tmp_path / "other").mkdir()
    with zipfile.ZipFile(tmp_path / "other" / "ARC-V1-Feb2018.zip", "w") as z:
        z.writestr("ARC-Easy-Train.jsonl", "")
    with pytest.raises(ValueError, match="not the official"):
        S.fetch_arc_easy(tmp_path / "other")


def test_option_scores_with_different_numbers_of_options(setup):
    _, tok, _, test, model = setup
    src = [S.qa_input(q) for q in test[:3]]
    opts = [S.labelled(test[0])[:3], S.labelled(test[1]), S.labelled(test[2])[:2]]
    ragged = S.option_scores(model, tok, src, opts, batch_size=2)
    assert ragged.shape == (3, 4) and torch.isinf(ragged[0, 3]) and torch.isinf(ragged[2, 2:]).all()
    for i in range(3):  # each row equals scoring that question alone
        alone = S.option_scores(model, tok, [src[i]], [opts[i]])[0]
        torch.testing.assert_close(ragged[i, :len(opts[i])], alone, atol=1e-4, rtol=1e-4)
    assert (S.choose(ragged) < [3, 4, 2]).all()


# ----------------------------------------------------------------- the train command (shared CLI)

@pytest.fixture()
def tiny_jobs(tmp_path, monkeypatch):
    """A throwaway repository root and two tiny JOBS entries (16 questions, 1 epoch of 2 steps)."""
    import functools

    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    no_torchrun(monkeypatch)
    variants = ("stage1", "stage2_teacher")  # what quick_eval (the registry's eval) needs
    monkeypatch.setattr(S, "JOBS", [(0, 0.1, variants), (1, 0.3, variants)])
    monkeypatch.setattr(S, "train_variants", functools.partial(S.train_variants, n_train=16, epochs=1, batch_size=8))
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


def test_train_command_saves_and_registers_every_job_in_order(tiny_jobs, capsys):
    from paperlab.core import cli
    from paperlab.core.train import load_checkpoint

    assert cli.uses_shared_cli("scicot")
    S.main(["train", "--profile", "cpu", "--job", "1", "0", "--threads", "1"])
    reg = assets.load_registry()
    for j, (seed, noise, variants) in enumerate(S.JOBS):
        name = S.checkpoint_name(seed, noise)
        assert name in reg and reg[name]["seeds"] == [seed] and reg[name]["noise"] == noise
        assert reg[name]["command"] == S.job_command(j) and set(reg[name]["eval"]) == {"two_stage_acc", "oracle_acc"}
        got = load_checkpoint(tiny_jobs / "data" / name)
        # the job is the old in-process path: seed_everything(seed), then train_variants
        S.seed_everything(seed)
        ref = S.train_variants(seed, noise=noise, variants=variants, progress=False)
        assert set(got["models"]) == set(variants)
        assert all(torch.equal(got["models"][v][k], ref["models"][v][k]) for v in variants for k in ref["models"][v])
    out = capsys.readouterr().out
    assert out.index("job 1 (seed 1, noise 0.3)") < out.index("job 0 (seed 0, noise 0.1)")  # --job order


def test_no_register_then_register(tiny_jobs, capsys):
    S.main(["train", "--profile", "cpu", "--job", "0", "--no-register"])
    name = S.checkpoint_name(0, 0.1)
    assert (tiny_jobs / "data" / name).exists() and name not in assets.load_registry()
    S.main(["register", "--profile", "cpu", "--job", "0"])
    assert assets.load_registry()[name]["command"] == S.job_command(0)
    assert name in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--profile", "cpu", "--job", "9"], "no such job"),
    (["train", "--profile", "cpu", "--job", "0", "0"], "duplicates"),
    (["train", "--profile", "cpu", "--job", "one"], "invalid int"),
    (["train", "--profile", "smoke"], "one size"),
    (["train", "--profile", "cpu", "--seeds", "0"], "--job"),
    (["train", "--profile", "cpu", "--workers", "0"], "positive integer"),
    (["finetune"], "invalid choice"),
])
def test_train_command_bad_options_are_clear_errors(tiny_jobs, monkeypatch, capsys, argv, message):
    monkeypatch.setattr(S, "train_job", lambda j: pytest.fail("must not train"))
    assert message in usage_error(S.main, argv, capsys)


def test_explicit_cuda_device_is_rejected(tiny_jobs, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(SystemExit):
        S.main(["train", "--profile", "cpu", "--device", "cuda"])
    assert "CPU only" in capsys.readouterr().err


# ----------------------------------------------------------------- answer format, rationale quality, instruments

def test_answer_strings_are_labels_by_default(setup):
    _, _, train, _, _ = setup
    q = train[0]
    assert S.answer_strings(q) == ["(A)", "(B)", "(C)", "(D)"]
    assert S.answer_target(q) == S.sciqa.LABELS[q.answer]
    assert S.answer_target(q, "label+text") == f"{S.sciqa.LABELS[q.answer]} {q.answer_text}"
    assert S.answer_input(q, "r .").startswith("question : ") and "rationale : r ." in S.answer_input(q, "r .")
    assert not S.answer_input(q, "r .", with_question=False).startswith("question")
    with pytest.raises(ValueError, match="answer format"):
        S.answer_target(q, "text")


def test_single_stage_scores_labels_after_its_rationale(setup):
    _, tok, _, test, model = setup
    pred, rats = S.predict_single_stage(model, tok, test[:3])
    assert len(rats) == 3 and all(0 <= p < 4 for p in pred)


def test_rationale_quality_and_chance_rationales(setup):
    kb, _, train, _, _ = setup
    qs = train[:40]
    gold = S.rationale_quality([q.gold_rationale for q in qs], qs)
    assert gold["conclusion"].mean() == gold["coverage"].mean() == gold["recall"].mean() == 1.0
    wrong = [q.gold_rationale.replace(f"so the answer is {S.sciqa.LABELS[q.answer]}", "so the answer is (Z)") for q in qs]
    assert S.rationale_quality(wrong, qs)["conclusion"].sum() == 0
    assert S.rationale_quality(["so the answer is (A) ."] * 40, qs)["coverage"].sum() == 0
    chance = S.chance_rationales(kb, W.make_questions(kb, S.world()[1], "test", 400, seed=5))
    qual = S.rationale_quality(chance, W.make_questions(kb, S.world()[1], "test", 400, seed=5))
    assert qual["coverage"].mean() == 1.0  # the teacher's format, random materials
    assert 0.15 < qual["conclusion"].mean() < 0.45 and qual["recall"].mean() < 0.3
    with pytest.raises(ValueError, match="rationales for"):
        S.rationale_quality(["x"], qs)


def test_two_stage_instruments_gate_the_comparison():
    from paperlab.core import claims

    ok = S.two_stage_instruments([0.99, 0.95, 0.97], [0.8, 0.7, 0.75])
    assert all(i["passed"] for i in ok) and ok[0]["value"] == 0.95
    bad = S.two_stage_instruments([0.99, 0.11, 0.97], [0.8, 0.7, 0.75])  # one seed's stage 2 ignores the rationale
    assert not bad[0]["passed"] and bad[1]["passed"]
    assert not S.two_stage_instruments([0.99] * 3, [0.25, 0.3, 0.6])[1]["passed"]  # stage 1 at chance
    big = dict(min_effect=0.05, why_min="test", names=("two-stage", "single-stage"))
    a, b = [0.9, 0.92, 0.91], [0.5, 0.52, 0.49]
    assert claims.paired(a, b, instrument=ok, **big)["verdict"] == "held"
    assert claims.paired(a, b, instrument=bad, **big)["verdict"] == "not testable here"
    with pytest.raises(ValueError, match="per seed"):
        S.two_stage_instruments([0.9, 0.9], [0.8])


def test_label_target_answer_model_reads_gold_rationales_on_held_out_questions():
    """The fixed stage 2: trained on gold rationales with the label as target, it answers held-out
    (compositional) questions from their gold rationale far above chance."""
    kb, held, tok = S.world()
    train = W.make_questions(kb, held, "train", 512, seed=0)
    test = W.make_questions(kb, held, "test", 64, seed=1)
    size = S.StudentSize(d_model=32, d_ff=64, num_layers=2, num_heads=2, d_kv=16)
    h = S.fit_stage2(tok, train, [q.gold_rationale for q in train], size=size, progress=False, epochs=8, lr=3e-3,
                     batch_size=16, with_question=False).eval()  # 256 steps (about 10 s of CPU)
    pred, _ = S.predict_two_stage(None, h, tok, test, [q.gold_rationale for q in test], with_question=False)
    assert S.accuracy(pred, test) > 0.6  # chance 0.25
