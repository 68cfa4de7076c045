"""Sci-CoT: two-stage chain-of-thought distillation into a small seq2seq student.

Paper: Yuhan Ma, Haiqi Jiang, Chenyou Fan, *Sci-CoT: Leveraging Large Language Models for Enhanced
Knowledge Distillation in Small Models for Scientific QA*, arXiv:2308.04679 (2023).
Official code: none found. Only the abstract was readable: it states the two-stage split
(rationale generation separated from answer inference), distillation of an LLM's CoT rationales,
and an 80M-parameter student beating BLOOM-176B few-shot on ARC-Easy. Everything else here
(input formats, losses, option scoring, mixing generated rationales) is our reconstruction of the
standard two-stage recipe, named as such in the notebook.

Students are ``transformers.T5ForConditionalGeneration`` built from a small ``T5Config`` with a
word-level tokenizer trained on the world's text with ``tokenizers``. Methods (all the same size):

* answer-only:    ``q, o -> a``
* single-stage:   ``q, o -> r ; answer : a`` (one target; the answer conditions on its own rationale)
* multi-task:     one model, ``explain: q, o -> r`` and ``predict: q, o -> a``; answers without r
* two-stage:      stage 1 ``g_phi: q, o -> r``; stage 2 ``h_psi: o, r -> a`` (our stage 2 does not
                  read the question stem, see ``answer_input``)
* oracle:         stage 2 given the teacher's clean rationale at test (an upper bound)

Answers are chosen by constrained scoring of the labelled options ``(B) ladder`` (``option_scores``,
summed log-likelihood), never by free-text matching.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import torch

from paperlab.core.seeding import seed_everything
from paperlab.core.train import fit
from paperlab.worlds import sciqa

SPECIALS = ["<pad>", "</s>", "<unk>"]  # T5 convention: pad=0 (also decoder start), eos=1


# ---------------------------------------------------------------- tokenizer and student

def train_tokenizer(texts: list):
    """A word-level ``tokenizers`` tokenizer over ``texts``, wrapped for transformers (appends </s>)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if not texts:
        raise ValueError("train_tokenizer() needs at least one text")
    extra = ["question", ":", "options", "|", "rationale", "answer", "explain", "predict", ";"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(list(texts) + [" ".join(extra)],
                            trainers.WordLevelTrainer(special_tokens=SPECIALS, min_frequency=1))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tokenizer_from_json(text: str):
    """Rebuild the wrapped tokenizer from ``Tokenizer.to_str()`` (stored inside checkpoints)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(text), pad_token="<pad>",
                                   eos_token="</s>", unk_token="<unk>")


@dataclass(frozen=True)
class StudentSize:
    """A tiny T5 (flan-t5-small is d_model 512, 8+8 layers, 77M parameters)."""

    d_model: int = 64
    d_ff: int = 128
    num_layers: int = 2
    num_heads: int = 4
    d_kv: int = 16
    max_len: int = 64  # the model's context in tokens (inputs longer than this are an error)


def make_student(tokenizer, size: StudentSize = StudentSize(), seed: int = 0):
    """A freshly initialised ``T5ForConditionalGeneration`` from a small ``T5Config``."""
    from transformers import T5Config, T5ForConditionalGeneration

    cfg = T5Config(vocab_size=len(tokenizer), d_model=size.d_model, d_ff=size.d_ff, d_kv=size.d_kv,
                   num_layers=size.num_layers, num_decoder_layers=size.num_layers, num_heads=size.num_heads,
                   dropout_rate=0.0, feed_forward_proj="relu", pad_token_id=0, eos_token_id=1,
                   decoder_start_token_id=0, relative_attention_num_buckets=32,
                   relative_attention_max_distance=128, tie_word_embeddings=True)
    torch.manual_seed(seed)
    return T5ForConditionalGeneration(cfg)


# ---------------------------------------------------------------- input formats

def qa_input(q: sciqa.Question) -> str:
    """``question : q options : (A) o1 (B) o2 ...`` (labelled options, as ARC prints them)."""
    return f"question : {q.stem} options : " + " ".join(f"{lab} {o}" for lab, o in zip(sciqa.LABELS, q.options))


def explain_input(q) -> str:
    return "explain : " + qa_input(q)


def answer_input(q, rationale: str, with_question: bool = False) -> str:
    """Stage 2 reads the options and a rationale (and the question stem only if ``with_question``).

    Without the stem the answer model cannot memorise "which object answers which property" and
    must read the rationale; the ablation ``stage2_withq`` shows what happens with the stem.
    """
    opts = " ".join(f"{lab} {o}" for lab, o in zip(sciqa.LABELS, q.options))
    head = f"question : {q.stem} " if with_question else ""
    return f"{head}options : {opts} rationale : {rationale}"


def labelled(q) -> list:
    """The K answer strings a student scores: ``(B) ladder`` (label, then the option text)."""
    return [f"{lab} {o}" for lab, o in zip(sciqa.LABELS, q.options)]


def answer_target(q) -> str:
    return labelled(q)[q.answer]


def single_stage_target(rationale: str, answer: str) -> str:
    """One target: the rationale, then the answer (the answer is conditioned on the rationale)."""
    return f"{rationale} answer : {answer}"


def encode(tokenizer, texts: list, max_len: int) -> dict:
    """Tokenise with padding; a text longer than the model's context is an error, never truncated."""
    if not texts:
        raise ValueError("encode() got no texts (empty split?)")
    enc = tokenizer(list(texts), padding=True, return_tensors="pt")
    lengths = enc["attention_mask"].sum(1)
    if int(lengths.max()) > max_len:
        i = int(lengths.argmax())
        raise ValueError(f"text {i} has {int(lengths[i])} tokens, longer than the model's context of {max_len}: "
                         f"{texts[i][:80]!r}...")
    return enc


# ---------------------------------------------------------------- training

def seq2seq_loss(model, batch) -> torch.Tensor:
    """Eq. L1 / L2: token-level cross-entropy -sum_t log p(y_t | y_<t, x), mean over target tokens."""
    ids, mask, labels = batch
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def train_seq2seq(model, tokenizer, sources: list, targets: list, *, epochs: int = 10, lr: float = 3e-3,
                  batch_size: int = 32, seed: int = 0, max_len: int = 64, progress: bool = True, desc: str = "train"):
    """Fine-tune ``model`` on (source, target) text pairs with ``core.train.fit`` (AdamW)."""
    if len(sources) != len(targets):
        raise ValueError(f"{len(sources)} sources but {len(targets)} targets")
    if len(sources) == 0:
        raise ValueError("cannot train on an empty training split")
    x = encode(tokenizer, sources, max_len)
    y = encode(tokenizer, targets, max_len)["input_ids"].clone()
    y[y == tokenizer.pad_token_id] = -100  # padding is not a target
    ds = torch.utils.data.TensorDataset(x["input_ids"], x["attention_mask"], y)
    g = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, generator=g)
    total = epochs * len(loader)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    warm = max(1, total // 20)  # linear warm-up over 5% of the steps, then linear decay to 0
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min((t + 1) / warm, max(0.0, (total - t) / (total - warm))))
    return fit(model, seq2seq_loss, loader, epochs=epochs, optimizer=opt, scheduler=sched, progress=progress,
               desc=desc, grad_clip=1.0)


# ---------------------------------------------------------------- inference

@torch.no_grad()
def option_scores(model, tokenizer, sources: list, options: list, prefixes: list | None = None,
                  reduction: str = "sum", max_len: int = 64) -> torch.Tensor:
    """Log-likelihood of each option as the decoder's output: ``(N, K)``.

    ``sources[i]`` is the encoder input, ``options[i]`` its K option texts; ``prefixes[i]`` (optional)
    is decoder text before the option (single-stage: the generated rationale + " answer :").
    ``reduction="mean"`` averages log p over the option's tokens and its </s> (length-normalised:
    multi-word options are not penalised for length); ``"sum"`` is the full sequence log-probability.
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    K = len(options[0]) if options else 0
    if len(options) != len(sources) or K < 2 or any(len(o) != K for o in options):
        raise ValueError(f"need K >= 2 options for each of {len(sources)} sources, got lengths "
                         f"{sorted({len(o) for o in options})}")
    prefixes = prefixes or [""] * len(sources)
    src = [s for s in sources for _ in range(K)]
    pre = [p for p in prefixes for _ in range(K)]
    full = [(p + " " + o).strip() for p, o_list in zip(prefixes, options) for o in o_list]
    x = encode(tokenizer, src, max_len)
    y = encode(tokenizer, full, max_len)["input_ids"]
    n_pre = torch.tensor([len(tokenizer(p, add_special_tokens=False)["input_ids"]) if p else 0 for p in pre])
    pos = torch.arange(y.shape[1])[None, :]
    target = (y != tokenizer.pad_token_id) & (pos >= n_pre[:, None])  # option tokens and </s>
    labels = y.masked_fill(y == tokenizer.pad_token_id, -100)
    logits = model(input_ids=x["input_ids"], attention_mask=x["attention_mask"], labels=labels).logits
    logp = torch.log_softmax(logits.float(), -1).gather(-1, y.clamp(min=0)[..., None])[..., 0]
    total = (logp * target).sum(1)
    if reduction == "mean":
        total = total / target.sum(1)
    return total.view(len(sources), K)


def choose(scores: torch.Tensor) -> np.ndarray:
    """The constrained answer: index of the highest-scoring option per question."""
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K), got shape {tuple(scores.shape)}")
    return scores.argmax(1).cpu().numpy()


@torch.no_grad()
def generate(model, tokenizer, sources: list, max_new_tokens: int = 48, max_len: int = 64,
             batch_size: int = 256) -> list:
    """Greedy decoding (stage 1 rationales, single-stage rationale+answer)."""
    out = []
    for i in range(0, len(sources), batch_size):
        x = encode(tokenizer, sources[i:i + batch_size], max_len)
        ids = model.generate(**x, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
        out += tokenizer.batch_decode(ids, skip_special_tokens=True)
    return [" ".join(t.split()) for t in out]


def accuracy(pred, questions: list) -> float:
    from paperlab.core import metrics

    return float(metrics.accuracy(np.asarray(pred), np.array([q.answer for q in questions])))


def fact_recall(generated: list, gold: list) -> float:
    """Mean share of the gold rationale's facts (sentences) found verbatim in the generated one."""
    if len(generated) != len(gold):
        raise ValueError(f"{len(generated)} generated rationales for {len(gold)} gold ones")
    f = sciqa.facts
    return float(np.mean([len(f(g) & f(r)) / len(f(r)) for g, r in zip(generated, gold)]))


def shuffled(rationales: list, seed: int = 0) -> list:
    """Each question gets another question's rationale (a derangement: never its own)."""
    n = len(rationales)
    if n < 2:
        raise ValueError("shuffling needs at least 2 rationales")
    perm = (np.arange(n) + np.random.default_rng(seed).integers(1, n)) % n
    return [rationales[j] for j in perm]


# ---------------------------------------------------------------- the methods

def predict_direct(model, tokenizer, questions: list, prefix: str = "", reduction: str = "sum", max_len: int = 64):
    """Answer-only / multi-task at test: score the options given ``q, o`` alone."""
    src = [prefix + qa_input(q) for q in questions]
    return choose(option_scores(model, tokenizer, src, [labelled(q) for q in questions], reduction=reduction,
                                max_len=max_len))


def split_single_stage(text: str) -> str:
    """The rationale part of a single-stage output (everything before ``answer :``)."""
    return text.split(" answer :")[0].split("answer :")[0].strip()


def predict_single_stage(model, tokenizer, questions: list, reduction: str = "sum", max_len: int = 64):
    """Single-stage CoT: decode the rationale, then score each option after ``<rationale> answer :``."""
    src = [qa_input(q) for q in questions]
    rats = [split_single_stage(t) for t in generate(model, tokenizer, src, max_len=max_len)]
    pre = [f"{r} answer :" for r in rats]
    scores = option_scores(model, tokenizer, src, [labelled(q) for q in questions], prefixes=pre,
                           reduction=reduction, max_len=max_len)
    return choose(scores), rats


def predict_two_stage(generator, answerer, tokenizer, questions: list, rationales: list | None = None,
                      reduction: str = "sum", max_len: int = 64, with_question: bool = False):
    """Two-stage inference: r_hat = g_phi(q, o) (greedy), then a_hat = argmax_a p_psi(a | q, o, r_hat).

    Pass ``rationales`` to bypass stage 1 (oracle: teacher rationales; ablation: shuffled ones).
    """
    if rationales is None:
        rationales = generate(generator, tokenizer, [explain_input(q) for q in questions], max_len=max_len)
    if len(rationales) != len(questions):
        raise ValueError(f"{len(rationales)} rationales for {len(questions)} questions")
    src = [answer_input(q, r, with_question) for q, r in zip(questions, rationales)]
    scores = option_scores(answerer, tokenizer, src, [labelled(q) for q in questions], reduction=reduction,
                           max_len=max_len)
    return choose(scores), rationales


TRAIN_DEFAULTS = dict(epochs=15, lr=3e-3, batch_size=32, max_len=64)


def _fit(tokenizer, size, seed, sources, targets, desc, progress, **kw):
    model = make_student(tokenizer, size, seed=seed)
    opts = {**TRAIN_DEFAULTS, **kw}
    train_seq2seq(model, tokenizer, sources, targets, seed=seed, progress=progress, desc=desc, **opts)
    return model


def fit_answer_only(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, **kw):
    """Baseline: q, o -> a."""
    return _fit(tokenizer, size, seed, [qa_input(q) for q in train], [answer_target(q) for q in train],
                "answer-only", progress, **kw)


def fit_single_stage(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, **kw):
    """Single-stage CoT distillation: q, o -> r^T ; answer : a."""
    tgt = [single_stage_target(q.rationale, answer_target(q)) for q in train]
    return _fit(tokenizer, size, seed, [qa_input(q) for q in train], tgt, "single-stage", progress, **kw)


def fit_multitask(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, **kw):
    """One model, two task prefixes (distilling-step-by-step style); predicts the answer alone at test."""
    src = [explain_input(q) for q in train] + ["predict : " + qa_input(q) for q in train]
    tgt = [q.rationale for q in train] + [answer_target(q) for q in train]
    return _fit(tokenizer, size, seed, src, tgt, "multi-task", progress, **kw)


def fit_stage1(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, **kw):
    """Stage 1, the rationale generator g_phi (Eq. L1): explain : q, o -> r^T."""
    return _fit(tokenizer, size, seed, [explain_input(q) for q in train], [q.rationale for q in train],
                "stage 1", progress, **kw)


def fit_stage2(tokenizer, train: list, rationales: list, size=StudentSize(), seed=0, progress=True,
               with_question: bool = False, **kw):
    """Stage 2, the answer model h_psi (Eq. L2): o, r -> a (q too if ``with_question``)."""
    if len(rationales) != len(train):
        raise ValueError(f"{len(rationales)} rationales for {len(train)} training questions")
    return _fit(tokenizer, size, seed, [answer_input(q, r, with_question) for q, r in zip(train, rationales)],
                [answer_target(q) for q in train], "stage 2", progress, **kw)


def mix_rationales(teacher: list, generated: list, share_generated: float = 0.5, seed: int = 0) -> list:
    """Per question, the generated rationale with probability ``share_generated``, else the teacher's."""
    if len(teacher) != len(generated):
        raise ValueError(f"{len(teacher)} teacher vs {len(generated)} generated rationales")
    pick = np.random.default_rng(seed).random(len(teacher)) < share_generated
    return [g if p else t for t, g, p in zip(teacher, generated, pick)]


# ---------------------------------------------------------------- load-or-train of every variant

MAIN_VARIANTS = ("answer_only", "single_stage", "multitask", "stage1", "stage2_teacher", "stage2_mixed")
COMMAND = "nice -n 5 python -m paperlab.scicot train"


def world(holdout: float = 0.3, split_seed: int = 0):
    """The knowledge base, its compositional split and the tokenizer (fixed across seeds)."""
    kb = sciqa.KnowledgeBase()
    held = sciqa.compositional_split(kb, holdout=holdout, seed=split_seed)
    return kb, held, train_tokenizer(sciqa.world_texts(kb))


def train_variants(seed: int, n_train: int = 600, noise: float = 0.1, variants=MAIN_VARIANTS,
                   size: StudentSize = StudentSize(), progress: bool = True, **kw) -> dict:
    """Train the requested variants for one seed; returns a checkpoint dict (fp16 weights).

    Data seed = ``seed``, model init seed = ``seed`` (separate generators), the world fixed.
    Stage 2 "generated" trains on stage 1's own rationales of the training questions; "mixed"
    takes each question's generated rationale with probability 1/2, else the teacher's.
    """
    kb, held, tok = world()
    train = sciqa.make_questions(kb, held, "train", n_train, seed=seed, noise=noise)
    t0, models = time.time(), {}
    fits = {"answer_only": fit_answer_only, "single_stage": fit_single_stage, "multitask": fit_multitask,
            "stage1": fit_stage1}
    for name in variants:
        if name in fits:
            models[name] = fits[name](tok, train, size, seed, progress, **kw)
    teacher = [q.rationale for q in train]
    if any(v in ("stage2_generated", "stage2_mixed") for v in variants):
        gen = generate(models["stage1"], tok, [explain_input(q) for q in train], max_len=kw.get("max_len", 64))
    for name, rats in (("stage2_teacher", lambda: teacher), ("stage2_generated", lambda: gen),
                       ("stage2_mixed", lambda: mix_rationales(teacher, gen, 0.5, seed))):
        if name in variants:
            models[name] = fit_stage2(tok, train, rats(), size, seed, progress, **kw)
    if "stage2_withq" in variants:  # ablation: stage 2 also reads the question stem
        models["stage2_withq"] = fit_stage2(tok, train, teacher, size, seed, progress, with_question=True, **kw)
    return {"seed": seed, "n_train": n_train, "noise": noise, "size": size.__dict__.copy(),
            "train_kw": {**TRAIN_DEFAULTS, **kw}, "wall_s": time.time() - t0,
            "tokenizer": tok.backend_tokenizer.to_str(),
            "models": {k: {n: p.detach().half() for n, p in m.state_dict().items()} for k, m in models.items()}}


def load_students(ckpt: dict) -> tuple:
    """(tokenizer, {variant: model in eval mode}) from a checkpoint dict."""
    tok = tokenizer_from_json(ckpt["tokenizer"])
    size = StudentSize(**ckpt["size"])
    models = {}
    for name, sd in ckpt["models"].items():
        m = make_student(tok, size)
        m.load_state_dict({k: v.float() for k, v in sd.items()})
        models[name] = m.eval()
    return tok, models


def load_students_checked(name: str) -> tuple:
    """Load a registered checkpoint (sha256 verified) -> (tokenizer, models)."""
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    return load_students(load_checkpoint(assets.path(name)))


def quick_eval(tok, models: dict, n: int = 200, seed: int = 999) -> dict:
    """Two-stage and oracle accuracy on ``n`` fresh test questions (stored in the registry)."""
    kb, held, _ = world()
    test = sciqa.make_questions(kb, held, "test", n, seed=seed)
    g, h = models["stage1"], models["stage2_teacher"]
    two, _ = predict_two_stage(g, h, tok, test)
    oracle, _ = predict_two_stage(g, h, tok, test, [q.gold_rationale for q in test])
    return {"two_stage_acc": round(accuracy(two, test), 4), "oracle_acc": round(accuracy(oracle, test), 4)}


def checkpoint_name(seed: int, noise: float = 0.1) -> str:
    return f"scicot/seed{seed}_noise{int(round(noise * 100)):02d}.pt"


def load_or_train_variants(seed: int, noise: float = 0.1, variants=MAIN_VARIANTS, retrain: bool | None = None,
                           progress: bool = True, **kw) -> dict:
    """``core.train.load_or_train`` of one seed's checkpoint; registers seeds and wall time when trained."""
    from paperlab.core import assets
    from paperlab.core.train import load_or_train

    name, trained = checkpoint_name(seed, noise), {}

    def train_fn():
        trained["ckpt"] = train_variants(seed, noise=noise, variants=variants, progress=progress, **kw)
        return trained["ckpt"]

    extra = dict(seeds=[seed], noise=noise, variants=list(variants))
    ckpt = load_or_train(name, train_fn, retrain=retrain, command=COMMAND, **extra)
    if trained:  # add the measured wall time and a quick eval to the registry entry
        ev = quick_eval(*load_students(ckpt))
        assets.register(name, command=COMMAND, wall_time_s=round(trained["ckpt"]["wall_s"], 1), eval=ev, **extra)
    return ckpt


ABLATION_VARIANTS = ("single_stage", "stage1", "stage2_teacher")
JOBS = [(s, 0.1, MAIN_VARIANTS) for s in (0, 1, 2)] + [(0, n, ABLATION_VARIANTS) for n in (0.0, 0.3)]


def register_trained(seed: int, noise: float, variants) -> dict:
    """Register a checkpoint trained with ``--no-register`` (hash, seeds, wall time, quick eval)."""
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    name = checkpoint_name(seed, noise)
    ckpt = load_checkpoint(assets.data_dir() / name)
    return assets.register(name, command=COMMAND, seeds=[seed], noise=noise, variants=list(variants),
                           wall_time_s=round(ckpt["wall_s"], 1), eval=quick_eval(*load_students(ckpt)))


def main(argv=None) -> None:
    """``python -m paperlab.scicot train``: every seed of the main comparison and the noise ablation.

    ``--job i --no-register`` trains one entry of ``JOBS`` without touching the registry (to run jobs
    in parallel processes); ``python -m paperlab.scicot register`` then registers them one by one.
    """
    from paperlab.core.train import save_checkpoint

    ap = argparse.ArgumentParser(prog="python -m paperlab.scicot")
    ap.add_argument("cmd", choices=["train", "register"])
    ap.add_argument("--job", type=int, nargs="+", default=list(range(len(JOBS))))
    ap.add_argument("--no-register", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for j in args.job:
        seed, noise, variants = JOBS[j]
        if args.cmd == "register":
            print(checkpoint_name(seed, noise), register_trained(seed, noise, variants).get("eval"), flush=True)
            continue
        seed_everything(seed)
        if args.no_register:
            from paperlab.core import assets

            ck = train_variants(seed, noise=noise, variants=variants, progress=False)
            save_checkpoint(ck, assets.data_dir() / checkpoint_name(seed, noise))
        else:
            ck = load_or_train_variants(seed, noise=noise, variants=variants, retrain=True, progress=False)
        print(f"job {j} (seed {seed}, noise {noise}): {len(ck['models'])} models in {ck['wall_s']:.0f} s", flush=True)


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- evaluation on fresh test questions

def evaluate_all(tok, models: dict, test: list, seed: int = 0, reduction: str = "sum") -> dict:
    """Accuracy of every method present in ``models`` (and rationale fact recall) on ``test``."""
    gold = [q.gold_rationale for q in test]
    res = {}
    if "answer_only" in models:
        res["answer-only"] = accuracy(predict_direct(models["answer_only"], tok, test, reduction=reduction), test)
    if "multitask" in models:
        res["multi-task"] = accuracy(predict_direct(models["multitask"], tok, test, "predict : ", reduction), test)
        expl = generate(models["multitask"], tok, [explain_input(q) for q in test], max_len=64)
        res["recall multi-task"] = fact_recall(expl, gold)
    if "single_stage" in models:
        pred, rats = predict_single_stage(models["single_stage"], tok, test, reduction)
        res["single-stage"], res["recall single-stage"] = accuracy(pred, test), fact_recall(rats, gold)
    if "stage1" in models:
        gen = generate(models["stage1"], tok, [explain_input(q) for q in test], max_len=64)
        res["recall stage 1"], res["generated"] = fact_recall(gen, gold), gen
        for key, name in (("stage2_teacher", "two-stage"), ("stage2_generated", "two-stage (s2 on generated)"),
                          ("stage2_mixed", "two-stage (s2 on mixed)")):
            if key in models:
                res[name] = accuracy(predict_two_stage(None, models[key], tok, test, gen, reduction)[0], test)
        h = models["stage2_teacher"]
        res["oracle"] = accuracy(predict_two_stage(None, h, tok, test, gold, reduction)[0], test)
        res["shuffled"] = accuracy(predict_two_stage(None, h, tok, test, shuffled(gen, seed), reduction)[0], test)
        if "stage2_withq" in models:
            hq = models["stage2_withq"]
            for name, rats in (("two-stage, s2 reads q", gen), ("oracle, s2 reads q", gold),
                               ("shuffled, s2 reads q", shuffled(gen, seed))):
                res[name] = accuracy(predict_two_stage(None, hq, tok, test, rats, reduction, with_question=True)[0],
                                     test)
    return res


def plot_pipeline(ax=None):
    """The two stages as data flow (training inputs dashed, test-time path solid)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7.5, 3.2), dpi=80)[1]
    boxes = {"q": (0.08, 0.5, "question q\n+ options o"), "g": (0.33, 0.8, "stage 1\ngenerator g_phi"),
             "r": (0.68, 0.8, "rationale r_hat\n(teacher r^T in training)"),
             "h": (0.5, 0.2, "stage 2\nanswer model h_psi"), "a": (0.86, 0.2, "argmax over options\nof log p(a | o, r)")}
    for x, y, text in boxes.values():
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#e8f0fb", ec="#3b6aa0"))
    for a, b in (("q", "g"), ("g", "r"), ("r", "h"), ("q", "h"), ("h", "a")):
        (x0, y0, _), (x1, y1, _) = boxes[a], boxes[b]
        ax.annotate("", xy=(x1 - 0.1 * np.sign(x1 - x0), y1), xytext=(x0 + 0.1 * np.sign(x1 - x0), y0),
                    arrowprops=dict(arrowstyle="->", color="#333"))
    ax.set_xlim(0, 1), ax.set_ylim(0, 1), ax.axis("off")
    ax.set_title("Sci-CoT as data flow: stage 1 writes a rationale, stage 2 reads it")
    return ax
