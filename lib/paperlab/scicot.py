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
* two-stage:      stage 1 ``g_phi: q, o -> r``; stage 2 ``h_psi: q, o, r -> a`` (``answer_input``)
* oracle:         stage 2 given the teacher's clean rationale at test (an upper bound)

The answer ``a`` is the option **label** ``(B)`` (``ANSWER_FORMATS``: "label", the default), and
answers are chosen by constrained scoring of the K labels (``option_scores``), never by free-text
matching. The variant "label+text" (``(B) ladder``) is kept as an ablation: with it a from-scratch
answer model learns object-word associations instead of reading the rationale's conclusion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from paperlab.core.seeding import seed_everything
from paperlab.core.train import fit
from paperlab.worlds import sciqa

SPECIALS = ["<pad>", "</s>", "<unk>"]  # T5 convention: pad=0 (also decoder start), eos=1
MAX_LEN = 96  # the toy students' context in word tokens (stage 2 reads q + o + r, about 60)


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
    max_len: int = MAX_LEN  # the model's context in tokens (inputs longer than this are an error)


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


def answer_input(q, rationale: str, with_question: bool = True) -> str:
    """Stage 2's input: ``question : q options : o rationale : r`` (the paper's design).

    ``with_question=False`` drops the stem (options and rationale only), an ablation.
    """
    opts = " ".join(f"{lab} {o}" for lab, o in zip(sciqa.LABELS, q.options))
    head = f"question : {q.stem} " if with_question else ""
    return f"{head}options : {opts} rationale : {rationale}"


ANSWER_FORMATS = ("label", "label+text")


def _check_fmt(fmt: str) -> str:
    if fmt not in ANSWER_FORMATS:
        raise ValueError(f"answer format must be one of {ANSWER_FORMATS}, got {fmt!r}")
    return fmt


def labelled(q) -> list:
    """The option strings with their labels: ``(B) ladder`` (label, then the option text)."""
    return [f"{lab} {o}" for lab, o in zip(sciqa.LABELS, q.options)]


def answer_strings(q, fmt: str = "label") -> list:
    """The K answer strings a student scores: the labels ``(A) (B) ...`` (default) or ``(B) ladder``."""
    return list(sciqa.LABELS[:len(q.options)]) if _check_fmt(fmt) == "label" else labelled(q)


def answer_target(q, fmt: str = "label") -> str:
    """The training target of an answer: the gold option's label ``(B)`` (or ``(B) ladder``)."""
    return answer_strings(q, fmt)[q.answer]


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

def model_device(model) -> torch.device:
    """Where the model's weights live (batches are moved there; CPU in the cpu profile)."""
    return next(model.parameters()).device


def seq2seq_loss(model, batch) -> torch.Tensor:
    """Eq. L1 / L2: token-level cross-entropy -sum_t log p(y_t | y_<t, x), mean over target tokens."""
    ids, mask, labels = (t.to(model_device(model)) for t in batch)
    return model(input_ids=ids, attention_mask=mask, labels=labels).loss


def train_seq2seq(model, tokenizer, sources: list, targets: list, *, epochs: int = 10, lr: float = 3e-3,
                  batch_size: int = 32, seed: int = 0, max_len: int = MAX_LEN, progress: bool = True, desc: str = "train"):
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
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min((t + 1) / warm, max(0.0, (total - t) / max(1, total - warm))))
    return fit(model, seq2seq_loss, loader, epochs=epochs, optimizer=opt, scheduler=sched, progress=progress,
               desc=desc, grad_clip=1.0)


# ---------------------------------------------------------------- inference

@torch.no_grad()
def option_scores(model, tokenizer, sources: list, options: list, prefixes: list | None = None,
                  reduction: str = "sum", max_len: int = MAX_LEN, batch_size: int | None = None) -> torch.Tensor:
    """Log-likelihood of each option as the decoder's output: ``(N, K)``.

    ``sources[i]`` is the encoder input, ``options[i]`` its option texts; ``prefixes[i]`` (optional)
    is decoder text before the option (single-stage: the generated rationale + " answer :").
    ``reduction="mean"`` averages log p over the option's tokens and its </s> (length-normalised:
    multi-word options are not penalised for length); ``"sum"`` is the full sequence log-probability.
    Questions may have different numbers of options (ARC has 3 to 5): K is the largest, and the
    missing options of a shorter question score ``-inf`` (never chosen).
    ``batch_size`` scores that many questions at a time (long few-shot prompts on a GPU).
    """
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    counts = [len(o) for o in options]
    if len(options) != len(sources) or not counts or min(counts) < 2:
        raise ValueError(f"need K >= 2 options for each of {len(sources)} sources, got {len(options)} option "
                         f"lists with lengths {sorted(set(counts))}")
    prefixes = prefixes or [""] * len(sources)
    if batch_size is not None and len(sources) > batch_size:
        parts = [option_scores(model, tokenizer, sources[i:i + batch_size], options[i:i + batch_size],
                               prefixes[i:i + batch_size], reduction, max_len) for i in range(0, len(sources), batch_size)]
        K = max(p.shape[1] for p in parts)
        return torch.cat([F.pad(p, (0, K - p.shape[1]), value=-float("inf")) for p in parts])
    src = [s for s, k in zip(sources, counts) for _ in range(k)]
    pre = [p for p, k in zip(prefixes, counts) for _ in range(k)]
    full = [(p + " " + o).strip() for p, o_list in zip(prefixes, options) for o in o_list]
    x = encode(tokenizer, src, max_len)
    y = encode(tokenizer, full, max_len)["input_ids"]
    n_pre = torch.tensor([len(tokenizer(p, add_special_tokens=False)["input_ids"]) if p else 0 for p in pre])
    pos = torch.arange(y.shape[1])[None, :]
    target = (y != tokenizer.pad_token_id) & (pos >= n_pre[:, None])  # option tokens and </s>
    labels = y.masked_fill(y == tokenizer.pad_token_id, -100)
    dev = model_device(model)
    logits = model(input_ids=x["input_ids"].to(dev), attention_mask=x["attention_mask"].to(dev),
                   labels=labels.to(dev)).logits.float().cpu()
    logp = torch.log_softmax(logits, -1).gather(-1, y.clamp(min=0)[..., None])[..., 0]
    total = (logp * target).sum(1)
    if reduction == "mean":
        total = total / target.sum(1)
    out = torch.full((len(sources), max(counts)), -float("inf"))
    mask = torch.arange(max(counts))[None, :] < torch.tensor(counts)[:, None]
    out[mask] = total  # row-major: question i's options in order
    return out


def choose(scores: torch.Tensor) -> np.ndarray:
    """The constrained answer: index of the highest-scoring option per question."""
    if scores.ndim != 2:
        raise ValueError(f"scores must be (N, K), got shape {tuple(scores.shape)}")
    return scores.argmax(1).cpu().numpy()


@torch.no_grad()
def generate(model, tokenizer, sources: list, max_new_tokens: int = 48, max_len: int = MAX_LEN,
             batch_size: int = 256) -> list:
    """Greedy decoding (stage 1 rationales, single-stage rationale+answer)."""
    out = []
    for i in range(0, len(sources), batch_size):
        x = encode(tokenizer, sources[i:i + batch_size], max_len).to(model_device(model))
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


def predict_direct(model, tokenizer, questions: list, prefix: str = "", reduction: str = "sum",
                   max_len: int = MAX_LEN, fmt: str = "label"):
    """Answer-only / multi-task at test: score the answer strings given ``q, o`` alone."""
    src = [prefix + qa_input(q) for q in questions]
    return choose(option_scores(model, tokenizer, src, [answer_strings(q, fmt) for q in questions],
                                reduction=reduction, max_len=max_len))


def split_single_stage(text: str) -> str:
    """The rationale part of a single-stage output (everything before ``answer :``)."""
    return text.split(" answer :")[0].split("answer :")[0].strip()


def predict_single_stage(model, tokenizer, questions: list, reduction: str = "sum", max_len: int = MAX_LEN,
                         fmt: str = "label"):
    """Single-stage CoT: decode the rationale, then score each answer string after ``<rationale> answer :``."""
    src = [qa_input(q) for q in questions]
    rats = [split_single_stage(t) for t in generate(model, tokenizer, src, max_len=max_len)]
    pre = [f"{r} answer :" for r in rats]
    scores = option_scores(model, tokenizer, src, [answer_strings(q, fmt) for q in questions], prefixes=pre,
                           reduction=reduction, max_len=max_len)
    return choose(scores), rats


def predict_two_stage(generator, answerer, tokenizer, questions: list, rationales: list | None = None,
                      reduction: str = "sum", max_len: int = MAX_LEN, with_question: bool = True,
                      max_new_tokens: int = 48, batch_size: int | None = None, fmt: str = "label"):
    """Two-stage inference: r_hat = g_phi(q, o) (greedy), then a_hat = argmax_a p_psi(a | q, o, r_hat).

    Pass ``rationales`` to bypass stage 1 (oracle: teacher rationales; ablation: shuffled ones).
    """
    if rationales is None:
        rationales = generate(generator, tokenizer, [explain_input(q) for q in questions], max_len=max_len,
                              max_new_tokens=max_new_tokens)
    if len(rationales) != len(questions):
        raise ValueError(f"{len(rationales)} rationales for {len(questions)} questions")
    src = [answer_input(q, r, with_question) for q, r in zip(questions, rationales)]
    scores = option_scores(answerer, tokenizer, src, [answer_strings(q, fmt) for q in questions],
                           reduction=reduction, max_len=max_len, batch_size=batch_size)
    return choose(scores), rationales


TRAIN_DEFAULTS = dict(epochs=4, lr=3e-3, batch_size=32, max_len=MAX_LEN)


def _fit(tokenizer, size, seed, sources, targets, desc, progress, **kw):
    model = make_student(tokenizer, size, seed=seed)
    opts = {**TRAIN_DEFAULTS, **kw}
    train_seq2seq(model, tokenizer, sources, targets, seed=seed, progress=progress, desc=desc, **opts)
    return model


def fit_answer_only(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, fmt: str = "label", **kw):
    """Baseline: q, o -> a."""
    return _fit(tokenizer, size, seed, [qa_input(q) for q in train], [answer_target(q, fmt) for q in train],
                "answer-only", progress, **kw)


def fit_single_stage(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, fmt: str = "label", **kw):
    """Single-stage CoT distillation: q, o -> r^T ; answer : a."""
    tgt = [single_stage_target(q.rationale, answer_target(q, fmt)) for q in train]
    return _fit(tokenizer, size, seed, [qa_input(q) for q in train], tgt, "single-stage", progress, **kw)


def fit_multitask(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, fmt: str = "label", **kw):
    """One model, two task prefixes (distilling-step-by-step style); predicts the answer alone at test."""
    src = [explain_input(q) for q in train] + ["predict : " + qa_input(q) for q in train]
    tgt = [q.rationale for q in train] + [answer_target(q, fmt) for q in train]
    return _fit(tokenizer, size, seed, src, tgt, "multi-task", progress, **kw)


def fit_stage1(tokenizer, train: list, size=StudentSize(), seed=0, progress=True, **kw):
    """Stage 1, the rationale generator g_phi (Eq. L1): explain : q, o -> r^T."""
    return _fit(tokenizer, size, seed, [explain_input(q) for q in train], [q.rationale for q in train],
                "stage 1", progress, **kw)


def fit_stage2(tokenizer, train: list, rationales: list, size=StudentSize(), seed=0, progress=True,
               with_question: bool = True, fmt: str = "label", **kw):
    """Stage 2, the answer model h_psi (Eq. L2): q, o, r -> a (without q if ``with_question=False``)."""
    if len(rationales) != len(train):
        raise ValueError(f"{len(rationales)} rationales for {len(train)} training questions")
    return _fit(tokenizer, size, seed, [answer_input(q, r, with_question) for q, r in zip(train, rationales)],
                [answer_target(q, fmt) for q in train], "stage 2", progress, **kw)


def mix_rationales(teacher: list, generated: list, share_generated: float = 0.5, seed: int = 0) -> list:
    """Per question, the generated rationale with probability ``share_generated``, else the teacher's."""
    if len(teacher) != len(generated):
        raise ValueError(f"{len(teacher)} teacher vs {len(generated)} generated rationales")
    pick = np.random.default_rng(seed).random(len(teacher)) < share_generated
    return [g if p else t for t, g, p in zip(teacher, generated, pick)]


# ---------------------------------------------------------------- load-or-train of every variant

# The main comparison. "stage2_labeltext" is the ablation of the answer format (target "(B) ladder").
# Multi-task and stage 2 on generated / mixed rationales are in the library but not trained (budget).
MAIN_VARIANTS = ("answer_only", "single_stage", "stage1", "stage2_teacher", "stage2_labeltext")
# Epochs over the same N_TRAIN questions (250 steps of 32 each), sized to the shared 2-core budget: the
# generators (stage 1, single-stage) 4 epochs; the answer models (answer-only, stage 2), whose target is one
# label, 2 epochs (they converge within a few hundred steps).
VARIANT_EPOCHS = {"answer_only": 2, "single_stage": 4, "multitask": 4, "stage1": 4, "stage2_teacher": 2,
                  "stage2_generated": 2, "stage2_mixed": 2, "stage2_labeltext": 2, "stage2_noq": 2}
N_TRAIN = 8000
COMMAND = "python -m paperlab.scicot train"


def world(holdout: float = 0.3, split_seed: int = 0):
    """The knowledge base, its compositional split and the tokenizer (fixed across seeds)."""
    kb = sciqa.KnowledgeBase()
    held = sciqa.compositional_split(kb, holdout=holdout, seed=split_seed)
    return kb, held, train_tokenizer(sciqa.world_texts(kb))


def train_variants(seed: int, n_train: int = N_TRAIN, noise: float = 0.1, variants=MAIN_VARIANTS,
                   size: StudentSize = StudentSize(), progress: bool = True, epochs: int | None = None, **kw) -> dict:
    """Train the requested variants for one seed; returns a checkpoint dict (fp16 weights).

    Data seed = ``seed``, model init seed = ``seed`` (separate generators), the world fixed.
    Each variant trains for ``VARIANT_EPOCHS[variant]`` epochs over the same ``n_train`` questions
    (``epochs`` overrides all). Stage 2 "generated" trains on stage 1's own rationales of the training
    questions; "mixed" takes each question's generated rationale with probability 1/2, else the teacher's.
    """
    unknown = set(variants) - set(VARIANT_EPOCHS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; known: {sorted(VARIANT_EPOCHS)}")
    kb, held, tok = world()
    train = sciqa.make_questions(kb, held, "train", n_train, seed=seed, noise=noise)
    t0, models, walls = time.time(), {}, {}

    def ep(v):
        return epochs or VARIANT_EPOCHS[v]

    fits = {"answer_only": fit_answer_only, "single_stage": fit_single_stage, "multitask": fit_multitask,
            "stage1": fit_stage1}
    for name in variants:
        if name in fits:
            t = time.time()
            models[name] = fits[name](tok, train, size, seed, progress, epochs=ep(name), **kw)
            walls[name] = time.time() - t
    teacher = [q.rationale for q in train]
    if any(v in ("stage2_generated", "stage2_mixed") for v in variants):
        gen = generate(models["stage1"], tok, [explain_input(q) for q in train], max_len=kw.get("max_len", MAX_LEN))
    stage2 = {"stage2_teacher": (lambda: teacher, {}), "stage2_generated": (lambda: gen, {}),
              "stage2_mixed": (lambda: mix_rationales(teacher, gen, 0.5, seed), {}),
              "stage2_labeltext": (lambda: teacher, {"fmt": "label+text"}),
              "stage2_noq": (lambda: teacher, {"with_question": False})}
    for name, (rats, extra) in stage2.items():
        if name in variants:
            t = time.time()
            models[name] = fit_stage2(tok, train, rats(), size, seed, progress, epochs=ep(name), **extra, **kw)
            walls[name] = time.time() - t
    return {"seed": seed, "n_train": n_train, "noise": noise, "size": size.__dict__.copy(),
            "train_kw": {**TRAIN_DEFAULTS, **kw}, "epochs": {v: ep(v) for v in variants},
            "wall_s": time.time() - t0, "wall_s_per_variant": walls,
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
                           progress: bool = True, command: str = COMMAND, **kw) -> dict:
    """``core.train.load_or_train`` of one seed's checkpoint; registers seeds and wall time when trained."""
    from paperlab.core import assets
    from paperlab.core.train import load_or_train

    name, trained = checkpoint_name(seed, noise), {}

    def train_fn():
        trained["ckpt"] = train_variants(seed, noise=noise, variants=variants, progress=progress, **kw)
        return trained["ckpt"]

    extra = dict(seeds=[seed], noise=noise, variants=list(variants))
    ckpt = load_or_train(name, train_fn, retrain=retrain, command=command, **extra)
    if trained:  # add the measured wall time and a quick eval to the registry entry
        ev = quick_eval(*load_students(ckpt))
        assets.register(name, command=command, wall_time_s=round(trained["ckpt"]["wall_s"], 1), eval=ev, **extra)
    return ckpt


# the noise ablation trains the two-stage pipeline only (the training budget; single-stage is in the main jobs)
ABLATION_VARIANTS = ("stage1", "stage2_teacher")
# jobs 0-2: the main comparison (noise 10%); 3-8: the noise ablation at 0% and 30% (seed 0 first, then 1, 2;
# the 10% point of the ablation is the main checkpoints)
JOBS = ([(s, 0.1, MAIN_VARIANTS) for s in (0, 1, 2)] + [(0, n, ABLATION_VARIANTS) for n in (0.0, 0.3)]
        + [(s, n, ABLATION_VARIANTS) for s in (1, 2) for n in (0.0, 0.3)])


def register_trained(seed: int, noise: float, variants, command: str | None = None) -> dict:
    """Register a checkpoint trained with ``--no-register`` (hash, seeds, wall time, quick eval)."""
    from paperlab.core import assets
    from paperlab.core.train import load_checkpoint

    name = checkpoint_name(seed, noise)
    ckpt = load_checkpoint(assets.data_dir() / name)
    command = command or job_command(JOBS.index((seed, noise, tuple(variants))))
    return assets.register(name, command=command, seeds=[seed], noise=noise, variants=list(variants),
                           wall_time_s=round(ckpt["wall_s"], 1), eval=quick_eval(*load_students(ckpt)))


def job_command(j: int) -> str:
    """The command recorded in the registry for entry ``j`` of ``JOBS`` (one job per entry, one thread)."""
    if not 0 <= j < len(JOBS):
        raise ValueError(f"no job {j}: JOBS has entries 0-{len(JOBS) - 1}")
    return f"OMP_NUM_THREADS=1 {COMMAND} --profile cpu --threads 1 --job {j}"


def train_job(j: int) -> dict:
    """Train entry ``j`` of ``JOBS`` (seeded from the entry) -> its checkpoint dict, not saved (the caller
    saves on rank 0). A module-level job for ``core.distributed.run_many`` / the CLI's ``Run.map``."""
    seed, noise, variants = JOBS[j]
    seed_everything(seed)
    return train_variants(seed, noise=noise, variants=variants, progress=False)


def main(argv=None) -> None:
    """``python -m paperlab.scicot train``: every seed of the main comparison and the noise ablation.

    On the shared command line (``paperlab.core.cli``): ``--workers N`` processes (or torchrun ranks)
    split the ``--job`` entries of ``JOBS`` with the sequential weights; rank 0 saves every checkpoint
    and registers it in job order (``--no-register``: save only; ``register`` registers saved ones).
    The students have one size, trained on the CPU: ``--profile gpu`` trains the same jobs (noted; the
    gpu profile's ARC path is ``run_arc``), ``--profile smoke``, ``--seeds`` and a CUDA ``--device`` are errors.
    """
    from paperlab.core import assets, cli
    from paperlab.core.train import save_checkpoint

    ap = cli.parser("python -m paperlab.scicot", "Train (or register) the SciCoT students of the main comparison "
                    "and the noise ablation.", commands=("train", "register"))
    ap.add_argument("--job", type=int, nargs="+", default=list(range(len(JOBS))),
                    help=f"entries of JOBS to run, 0-{len(JOBS) - 1} (default all): 0-2 the main comparison "
                         "(seeds 0-2, noise 10%%), 3-8 the noise ablation (0%% / 30%%)")
    ap.add_argument("--no-register", action="store_true", help="train: save the checkpoints, do not register")

    def body(args, run):
        bad = [j for j in args.job if not 0 <= j < len(JOBS)]
        if bad:
            ap.error(f"--job {' '.join(map(str, bad))}: no such job; JOBS has entries 0-{len(JOBS) - 1}")
        if len(set(args.job)) != len(args.job):
            ap.error(f"--job has duplicates: {args.job}")
        cli.cpu_plan_only(ap, args, run, "scicot", f"{len(JOBS)} jobs of students",
                          gpu_note="note: scicot train has no gpu size; training the cpu students on the CPU "
                                   "(the gpu ARC path is run_arc)")
        if run.seeds is not None:
            ap.error(f"--seeds {' '.join(map(str, run.seeds))}: scicot's runs are the JOBS entries; choose them "
                     "with --job (0-2: seeds 0-2 of the main comparison)")
        if args.command == "register":
            for j in args.job:
                seed, noise, variants = JOBS[j]
                if run.is_main:
                    print(checkpoint_name(seed, noise),
                          register_trained(seed, noise, variants, job_command(j)).get("eval"), flush=True)
            return
        ckpts = run.map(train_job, [{"j": j} for j in args.job])
        for j, ck in zip(args.job, ckpts):
            seed, noise, variants = JOBS[j]
            if run.is_main:
                save_checkpoint(ck, assets.data_dir() / checkpoint_name(seed, noise))
                if not args.no_register:
                    register_trained(seed, noise, variants, job_command(j))
            run.log(f"job {j} (seed {seed}, noise {noise}): {len(ck['models'])} models in {ck['wall_s']:.0f} s")

    cli.main(ap, body, argv)


if __name__ == "__main__":
    main()


# ---------------------------------------------------------------- evaluation on fresh test questions

def covers_options(rationale: str, q) -> bool:
    """True when the rationale names every option with its label (``(C) crayon``), as the teacher does."""
    return all(f"{lab} {o} " in rationale + " " for lab, o in zip(sciqa.LABELS, q.options))


def rationale_quality(generated: list, questions: list) -> dict:
    """Per-question quality of generated rationales (0/1 or a share, arrays of length N).

    ``conclusion``: the rationale ends in the gold label (``so the answer is (B)``; chance 1/K);
    ``coverage``: it names every option with its label; ``recall``: :func:`fact_recall` per question.
    """
    if len(generated) != len(questions):
        raise ValueError(f"{len(generated)} rationales for {len(questions)} questions")
    f = sciqa.facts
    return {"conclusion": np.array([parse_answer(r, len(q.options)) == q.answer for q, r in zip(questions, generated)],
                                   dtype=float),
            "coverage": np.array([covers_options(r, q) for q, r in zip(questions, generated)], dtype=float),
            "recall": np.array([len(f(r) & f(q.gold_rationale)) / len(f(q.gold_rationale))
                                for q, r in zip(questions, generated)])}


def chance_rationales(kb: sciqa.KnowledgeBase, questions: list, seed: int = 0) -> list:
    """The chance level of a rationale writer: the teacher's format with every option's material drawn at
    random (uniform over the world's materials), its yes/no and conclusion consistent with that draw."""
    r = np.random.default_rng(seed)
    mats = sorted(kb.materials)
    out = []
    for q in questions:
        drawn = [str(r.choice(mats)) for _ in q.options]
        steps = [sciqa.option_fact(kb, lab, o, q.prop, m) for lab, o, m in zip(sciqa.LABELS, q.options, drawn)]
        yes = [i for i, m in enumerate(drawn) if q.prop in kb.materials[m]] or list(range(len(q.options)))
        out.append(" ".join(steps + [f"so the answer is {sciqa.LABELS[int(r.choice(yes))]} ."]))
    return out


def evaluate_all(tok, models: dict, test: list, seed: int = 0, reduction: str = "sum",
                 train: list | None = None) -> dict:
    """Every method present in ``models`` on ``test``.

    Returns ``acc`` (method -> accuracy), ``correct`` (method -> 0/1 array per question, for paired
    bootstraps), ``quality`` (generator -> :func:`rationale_quality` arrays) and ``generated`` (stage 1's
    rationales). Methods: answer-only, multi-task, single-stage, two-stage (stage 2 on stage 1's
    rationales), oracle (stage 2 on the gold rationale), shuffled (stage 2 on another question's stage-1
    rationale), and the answer-format ablation "oracle, label+text". With ``train`` (the checkpoint's own
    training questions) it adds ``train oracle`` and ``train oracle, label+text`` (0/1 arrays).
    """
    gold = [q.gold_rationale for q in test]
    ans = np.array([q.answer for q in test])
    correct, quality, out = {}, {}, {}
    if "answer_only" in models:
        correct["answer-only"] = predict_direct(models["answer_only"], tok, test, reduction=reduction) == ans
    if "multitask" in models:
        correct["multi-task"] = predict_direct(models["multitask"], tok, test, "predict : ", reduction) == ans
        quality["multi-task"] = rationale_quality(generate(models["multitask"], tok, [explain_input(q) for q in test]),
                                                  test)
    if "single_stage" in models:
        pred, rats = predict_single_stage(models["single_stage"], tok, test, reduction)
        correct["single-stage"], quality["single-stage"] = pred == ans, rationale_quality(rats, test)
    if "stage1" in models:
        gen = generate(models["stage1"], tok, [explain_input(q) for q in test])
        quality["stage 1"], out["generated"] = rationale_quality(gen, test), gen
        h = models["stage2_teacher"]
        for name, rats in (("two-stage", gen), ("oracle", gold), ("shuffled", shuffled(gen, seed))):
            correct[name] = predict_two_stage(None, h, tok, test, rats, reduction)[0] == ans
        for key, name in (("stage2_generated", "two-stage (s2 on generated)"),
                          ("stage2_mixed", "two-stage (s2 on mixed)")):
            if key in models:
                correct[name] = predict_two_stage(None, models[key], tok, test, gen, reduction)[0] == ans
    if "stage2_noq" in models:
        correct["oracle, no question"] = predict_two_stage(None, models["stage2_noq"], tok, test, gold, reduction,
                                                           with_question=False)[0] == ans
    if "stage2_labeltext" in models:
        h = models["stage2_labeltext"]
        correct["oracle, label+text"] = predict_two_stage(None, h, tok, test, gold, reduction, fmt="label+text")[0] == ans
    if "stage2_labeltext" in models and train is not None:  # memorisation: the model's own training questions
        h = models["stage2_labeltext"]
        ans_tr = np.array([q.answer for q in train])
        for name, fmt, m in (("train oracle, label+text", "label+text", h),
                             ("train oracle", "label", models.get("stage2_teacher"))):
            if m is not None:
                out[name] = predict_two_stage(None, m, tok, train, [q.gold_rationale for q in train], reduction,
                                              fmt=fmt)[0] == ans_tr
    correct = {k: v.astype(float) for k, v in correct.items()}
    return {"acc": {k: float(v.mean()) for k, v in correct.items()}, "correct": correct, "quality": quality, **out}


ORACLE_MIN = 0.9  # stage 2 on gold rationales of held-out questions: reads the conclusion
CONCLUSION_MIN = 0.5  # stage 1's conclusions correct: twice chance (4 options)


def two_stage_instruments(oracle_acc, conclusion_rate) -> list:
    """The positive controls a two-stage comparison rests on (``claims.instrument`` dicts), per-seed inputs.

    Stage 2 must read the rationale (oracle test accuracy >= ``ORACLE_MIN`` on every seed) and stage 1
    must write usable rationales (correct conclusions >= ``CONCLUSION_MIN`` on every seed): the lowest
    seed is checked.
    """
    from paperlab.core import claims

    o, c = np.asarray(oracle_acc, dtype=float), np.asarray(conclusion_rate, dtype=float)
    if o.size == 0 or c.size == 0 or o.size != c.size:
        raise ValueError(f"need one oracle accuracy and one conclusion rate per seed, got {o.size} and {c.size}")
    return [claims.instrument("stage 2 on gold rationales, held-out questions (lowest seed)", float(o.min()),
                              low=ORACLE_MIN),
            claims.instrument("stage-1 conclusions correct, held-out questions (lowest seed; chance 0.25)",
                              float(c.min()), low=CONCLUSION_MIN)]


def plot_pipeline(ax=None):
    """The two stages as data flow, as ``predict_two_stage`` runs them: stage 1 reads q and o; stage 2
    reads q, o and the rationale (``answer_input``) and scores the option labels."""
    import matplotlib.pyplot as plt

    from paperlab.core.plots import block_diagram

    ax = ax or plt.subplots(figsize=(7.5, 3.2), dpi=80)[1]
    block_diagram({"q": (0.1, 0.5, "question q\n+ options o", "#eeeeee"),
                   "g": (0.36, 0.85, "stage 1: generator g_phi\n(fit_stage1)"),
                   "r": (0.78, 0.85, "rationale r_hat\n(teacher r^T in training)"),
                   "h": (0.5, 0.15, "stage 2: answer model h_psi\n(fit_stage2, reads q, o, r)"),
                   "a": (0.87, 0.15, "argmax over labels\nlog p((B) | q, o, r)", "#d5f5e3")},
                  [("q", "g"), ("g", "r"), ("r", "h"), ("q", "h"), ("h", "a")], ax=ax,
                  title="Sci-CoT as data flow: stage 1 writes a rationale, stage 2 reads it with the question")
    return ax


# ---------------------------------------------------------------- gpu profile: flan-t5 on ARC-Easy
#
# The paper's headline: an 80M student distilled with Sci-CoT beats BLOOM-176B prompted few-shot on
# ARC-Easy. Our gpu-profile stand-in, with real checkpoints and the same two-stage code as the toy
# world: a larger flan-t5 (the teacher, default flan-t5-large, ~780M) writes few-shot chain-of-thought
# rationales for the ARC-Easy training questions (kept only when they end in the gold answer, the usual
# filter; unverified for Sci-CoT); google/flan-t5-small (~77M, the likely 80M student) is fine-tuned as
# stage 1 (rationale generator) and stage 2 (answer model); the comparison is the student's two-stage
# accuracy against the teacher's own few-shot (answer-only prompt) accuracy on ARC-Easy test.
# BLOOM-176B itself is out of reach; the teacher LLM of the paper is not known to us.

GPU_STUDENT = "google/flan-t5-small"
GPU_TEACHER = "google/flan-t5-large"
ARC_URL = "https://ai2-public-datasets.s3.amazonaws.com/arc/ARC-V1-Feb2018.zip"  # official release (~680 MB)
ARC_MEMBERS = {"train": "ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Train.jsonl",
               "test": "ARC-V1-Feb2018-2/ARC-Easy/ARC-Easy-Test.jsonl"}

# Few-shot exemplars for the teacher, written by us (not ARC questions, not from the paper).
FEWSHOT = (
    sciqa.Question("Which of these objects is most likely to be attracted by a magnet?",
                   ["a wooden spoon", "an iron nail", "a glass marble", "a rubber band"], 1,
                   rationale="Magnets attract objects made of iron. A spoon made of wood, a marble made of glass and "
                             "a band made of rubber contain no iron. A nail is made of iron."),
    sciqa.Question("What happens to an ice cube left on a table in a warm room?",
                   ["It melts.", "It gets bigger.", "It turns into a gas at once.", "It stays the same."], 0,
                   rationale="A warm room is warmer than the freezing point of water. Ice warmer than its freezing "
                             "point turns into liquid water. That change is called melting."),
    sciqa.Question("Which material is the best conductor of electricity?",
                   ["plastic", "wood", "copper", "cotton"], 2,
                   rationale="Metals conduct electricity well. Plastic, wood and cotton are not metals and are used "
                             "as insulators. Copper is a metal used in electric wires."),
)


def conclusion(q) -> str:
    """The sentence a teacher rationale ends with: ``so the answer is (B) .``"""
    return f"so the answer is {sciqa.LABELS[q.answer]} ."


def cot_prompt(q, shots=FEWSHOT) -> str:
    """Few-shot chain-of-thought prompt for the teacher: exemplars with reasoning, then ``q``."""
    parts = [f"{qa_input(e)} reasoning : {e.rationale} {conclusion(e)}" for e in shots]
    return "\n\n".join(parts + [f"{qa_input(q)} reasoning :"])


def fewshot_prompt(q, shots=FEWSHOT) -> str:
    """Few-shot answer-only prompt (the prompted baseline): exemplars ``... answer : (B) text``, then ``q``."""
    parts = [f"{qa_input(e)} answer : {answer_target(e)}" for e in shots]
    return "\n\n".join(parts + [f"{qa_input(q)} answer :"])


def parse_answer(rationale: str, n_options: int) -> int | None:
    """The option index a rationale concludes with (``... answer is (C)``), or None if it names none."""
    import re

    found = re.findall(r"answer is \(?([A-E])\)?", rationale)
    if not found:
        return None
    i = "ABCDE".index(found[-1])
    return i if i < n_options else None


def load_pretrained(name_or_path: str, device: str | torch.device = "cpu"):
    """(tokenizer, model) through transformers' own classes: ``AutoTokenizer`` and
    ``T5ForConditionalGeneration.from_pretrained`` (a hub name such as google/flan-t5-small, or a
    directory written by ``save_pretrained``). Float32: flan-t5 overflows in float16."""
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
        model = T5ForConditionalGeneration.from_pretrained(name_or_path, dtype=torch.float32)
    except OSError as e:
        if Path(name_or_path).expanduser().exists():
            raise
        from paperlab.core.profiles import download_error

        raise download_error(name_or_path, f"https://huggingface.co/{name_or_path}", "~/.cache/huggingface/hub",
                             f"run `huggingface-cli download {name_or_path}` on a machine with internet and copy the cache to",
                             e) from e
    return tok, model.to(device).eval()


def fetch_arc_easy(root: str | Path = "~/.cache/paperlab/arc", url: str = ARC_URL) -> dict:
    """Paths of ARC-Easy train/test jsonl under ``root``: extracted from the official zip
    (``root/ARC-V1-Feb2018.zip``, downloaded from ``url`` when absent -- gpu profile only)."""
    import urllib.request
    import zipfile

    root = Path(root).expanduser()
    out = {k: root / Path(m).name for k, m in ARC_MEMBERS.items()}
    if all(p.exists() for p in out.values()):
        return out
    zpath = root / Path(url).name
    if not zpath.exists():
        root.mkdir(parents=True, exist_ok=True)
        try:
            urllib.request.urlretrieve(url, zpath)  # noqa: S310 (fixed https URL)
        except OSError as e:  # URLError is an OSError
            from paperlab.core.profiles import download_error

            zpath.unlink(missing_ok=True)
            raise download_error("ARC-Easy (ARC-V1-Feb2018)", url, zpath, "download the zip by hand and save it as", e) from e
    with zipfile.ZipFile(zpath) as z:
        names = set(z.namelist())
        for k, m in ARC_MEMBERS.items():
            if m not in names:
                raise ValueError(f"{zpath} has no member {m!r}: not the official ARC-V1-Feb2018 release")
            out[k].write_bytes(z.read(m))
    return out


@dataclass(frozen=True)
class ArcConfig:
    """The gpu-profile ARC-Easy run. ``student`` / ``teacher``: hub names or ``save_pretrained`` dirs."""

    train_path: str
    test_path: str
    student: str = GPU_STUDENT
    teacher: str = GPU_TEACHER
    n_train: int | None = None  # None: every question in the file
    n_test: int | None = None
    seeds: tuple = (0, 1, 2)
    epochs: int = 5
    lr: float = 3e-4
    batch_size: int = 16
    max_len: int = 512  # encoder context (few-shot prompts are the longest inputs)
    max_rationale: int = 96  # new tokens per generated rationale
    keep: str = "correct"  # "correct": keep teacher rationales that end in the gold answer; "all"
    with_question: bool = True  # stage 2 reads q, o and r (the paper's design; see answer_input)
    score_batch: int = 16
    device: str | None = None  # None: cuda if available

    def __post_init__(self):
        if self.keep not in ("correct", "all"):
            raise ValueError(f"keep must be 'correct' or 'all', got {self.keep!r}")


def _finetune(cfg: ArcConfig, seed: int, sources: list, targets: list, desc: str, progress: bool):
    seed_everything(seed)
    tok, model = load_pretrained(cfg.student, cfg.device)
    train_seq2seq(model, tok, sources, targets, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                  seed=seed, max_len=cfg.max_len, progress=progress, desc=desc)
    return tok, model.eval()


def run_arc(cfg: ArcConfig, progress: bool = True) -> dict:
    """Teacher few-shot baseline, teacher rationales, and the two-stage student (per seed) on ARC-Easy.

    Returns accuracies (``teacher_fewshot``; per seed ``two_stage``, ``answer_only``), the number of
    teacher rationales kept, and a few examples. Stage 2 never sees a rationale of a test question
    other than stage 1's own.
    """
    cfg = replace(cfg, device=cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    train = sciqa.load_arc_jsonl(cfg.train_path, cfg.n_train)
    test = sciqa.load_arc_jsonl(cfg.test_path, cfg.n_test)
    t0 = time.time()
    ttok, teacher = load_pretrained(cfg.teacher, cfg.device)
    kw = dict(max_len=cfg.max_len)
    pred = choose(option_scores(teacher, ttok, [fewshot_prompt(q) for q in test], [labelled(q) for q in test],
                                batch_size=cfg.score_batch, **kw))
    out = {"teacher": cfg.teacher, "student": cfg.student, "n_train": len(train), "n_test": len(test),
           "teacher_fewshot": accuracy(pred, test)}
    rats = generate(teacher, ttok, [cot_prompt(q) for q in train], max_new_tokens=cfg.max_rationale,
                    batch_size=cfg.score_batch, **kw)
    del teacher
    ok = [parse_answer(r, len(q.options)) == q.answer for q, r in zip(train, rats)]
    kept = [(q, r) for q, r, k in zip(train, rats, ok) if k or cfg.keep == "all"]
    out.update(teacher_rationale_acc=float(np.mean(ok)), n_kept=len(kept))
    if not kept:
        raise ValueError(f"none of the teacher's {len(train)} rationales ends in the gold answer; "
                         f"use keep='all' or a stronger teacher than {cfg.teacher!r}")
    kq, kr = [q for q, _ in kept], [r for _, r in kept]
    out.update(two_stage=[], answer_only=[], examples=[])
    for seed in cfg.seeds:
        stok, g = _finetune(cfg, seed, [explain_input(q) for q in kq], kr, f"stage 1 s{seed}", progress)
        _, h = _finetune(cfg, seed, [answer_input(q, r, cfg.with_question) for q, r in kept],
                         [answer_target(q) for q in kq], f"stage 2 s{seed}", progress)
        pred, gen = predict_two_stage(g, h, stok, test, with_question=cfg.with_question,
                                      max_new_tokens=cfg.max_rationale, batch_size=cfg.score_batch, **kw)
        out["two_stage"].append(accuracy(pred, test))
        del g, h
        _, a = _finetune(cfg, seed, [qa_input(q) for q in train], [answer_target(q) for q in train],
                         f"answer-only s{seed}", progress)
        pred_a = choose(option_scores(a, stok, [qa_input(q) for q in test], [answer_strings(q) for q in test],
                                      batch_size=cfg.score_batch, **kw))
        out["answer_only"].append(accuracy(pred_a, test))
        del a
        if not out["examples"]:  # one training question with its teacher rationale, one test question
            out["examples"] = [{"split": "train", "question": kq[0].stem, "options": kq[0].options,
                                "gold": kq[0].answer_text, "teacher rationale": kr[0]},
                               {"split": "test", "question": test[0].stem, "options": test[0].options,
                                "gold": test[0].answer_text, "stage 1 rationale": gen[0],
                                "two-stage answer": test[0].options[int(pred[0])]}]
    out["wall_s"] = time.time() - t0
    return out


SAMPLE_FILE = "ARC-Easy-sample.jsonl"  # data/samples/arc: the gpu dry run's ARC-format file


def arc_paths(data_dir: str | Path) -> dict:
    """ARC-Easy train/test paths: in the gpu dry run (``data_dir`` holds the 4-question format sample
    ``ARC-Easy-sample.jsonl``) that file serves as both splits; otherwise ``fetch_arc_easy(data_dir)``."""
    sample = Path(data_dir).expanduser() / SAMPLE_FILE
    if sample.exists():
        return {"train": sample, "test": sample}
    return fetch_arc_easy(data_dir)


def offline_pretrained(path: str | Path, questions: list, seed: int = 0) -> str:
    """A tiny, randomly initialised T5 and a word-level tokenizer trained on ``questions``' prompts, written with
    ``save_pretrained`` to ``path``: the offline stand-in for a hub checkpoint (gpu dry run, unit tests).
    ``load_pretrained(path)`` reads it through the same transformers classes as ``google/flan-t5-small``."""
    tok = train_tokenizer([cot_prompt(q) for q in questions] + [fewshot_prompt(q) for q in questions]
                          + [answer_input(q, "", True) for q in questions])
    make_student(tok, seed=seed).save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


# -------------------------------------------------------------------------- exercises ----

EX2_LOGP = {"soda can": [-1.0, -0.1, -0.1], "foil": [-0.9, -0.1]}  # exercise 2: per-token log p (words + </s>)


def bigger_drop(noise_per: dict, margin: float = 0.02) -> str:
    """Exercise 5's expected answer from the measured noise ablation (noise % -> method -> per-seed accuracies):
    which of two-stage and the oracle loses more mean accuracy from 0% to 30% noise ("neither" within ``margin``)."""
    for n in (0, 30):
        if n not in noise_per or not {"two-stage", "oracle"} <= set(noise_per[n]):
            raise ValueError(f"noise_per needs keys 0 and 30, each with 'two-stage' and 'oracle'; got {sorted(noise_per)}")
    d2 = np.mean(noise_per[0]["two-stage"]) - np.mean(noise_per[30]["two-stage"])
    d1 = np.mean(noise_per[0]["oracle"]) - np.mean(noise_per[30]["oracle"])
    return "neither" if abs(d2 - d1) <= margin else ("two-stage" if d2 > d1 else "oracle")


def check_exercise(n: int, answer, **data) -> str:
    """The notebook's exercise checks (1-5): not attempted / incorrect / close / correct.

    Exercise 1 takes ``questions=`` (the test questions); 4 takes ``model=``, ``tokenizer=``, ``questions=``;
    5 takes ``noise_per=`` (the measured ablation). The expected values are computed here from that data.
    """
    from paperlab.core import checks

    def need(*keys):
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"exercise {n} needs {', '.join(f'{k}=' for k in missing)} (see the notebook's check cell)")

    if n == 1:
        if not checks._attempted(answer):
            return checks.check_close("exercise 1", answer, 0.0)
        need("questions")
        want = float(np.mean([1 / (len(q.options) - 1) for q in data["questions"]]))
        return checks.check_close("exercise 1", answer, want, rtol=0.01, close_rtol=0.15,
                                  hint="after ruling one wrong option out, how many options are left to guess among?")
    if n == 2:
        sums = {k: sum(v) for k, v in EX2_LOGP.items()}
        means = {k: sum(v) / len(v) for k, v in EX2_LOGP.items()}
        want = (max(sums, key=sums.get), max(means, key=means.get))
        opts = [(a, b) for a in EX2_LOGP for b in EX2_LOGP]
        return checks.check_choice("exercise 2", answer, want, opts,
                                   hint="add each option's numbers for the sum; divide by its token count for the mean; "
                                        "the larger (less negative) wins")
    if n == 3:
        gold = ["(A) nail is iron : yes .", "(B) cup is glass : no .", "(C) crayon is wax : yes .", "(D) coin is copper : no ."]
        generated = [gold[0], gold[1], "(C) crayon is rubber : no .", gold[3]]
        want = sum(g in generated for g in gold) / len(gold)
        return checks.check_close("exercise 3", answer, want, rtol=0.01, close_rtol=0.2,
                                  hint="count the gold steps stated verbatim, out of all gold steps")
    if n == 4:
        if not checks._attempted(answer):
            return checks.check_function("exercise 4", answer, None, [])
        need("model", "tokenizer", "questions")
        model, tok = data["model"], data["tokenizer"]
        return checks.check_function(
            "exercise 4", lambda src, opts: answer(model, src, opts),
            lambda src, opts: option_scores(model, tok, [src], [opts], reduction="sum")[0],
            [(qa_input(q), labelled(q)) for q in data["questions"]], rtol=1e-4, atol=1e-4,
            hint="loss is the mean over target tokens (incl. </s>): multiply by their number, and flip the sign")
    if n == 5:
        if not checks._attempted(answer):
            return checks.check_choice("exercise 5", answer, "", [])
        need("noise_per")
        return checks.check_choice("exercise 5", answer, bigger_drop(data["noise_per"]), ["two-stage", "oracle", "neither"],
                                   hint="mean at 0% minus mean at 30%, for each method, then compare")
    raise ValueError(f"exercise number must be 1-5, got {n}")


SOLUTIONS = {
    1: ("""Ruling out one wrong option leaves K - 1 options, one of them right; a uniform guess among them is right
with probability 1/(K - 1): 1/3 on 4-option questions (the checker averages over the test questions, which all
have 4 options). Plain chance, 1/K = 0.25, is the student that rules nothing out.""",
        """kb, held, tok = scicot.world()
from paperlab.worlds import sciqa
test_q = sciqa.make_questions(kb, held, "test", 100, seed=1000)
answer_1 = float(np.mean([1 / (len(q.options) - 1) for q in test_q]))
print(answer_1)
verdict = scicot.check_exercise(1, answer_1, questions=test_q)"""),
    2: ("""Sum: soda can -1.0 - 0.1 - 0.1 = -1.2, foil -0.9 - 0.1 = -1.0, so the sum picks foil (the shorter string pays
for fewer tokens). Mean: soda can -1.2 / 3 = -0.4, foil -1.0 / 2 = -0.5, so the mean picks soda can.""",
        """logp = {"soda can": [-1.0, -0.1, -0.1], "foil": [-0.9, -0.1]}
by_sum = max(logp, key=lambda k: sum(logp[k]))
by_mean = max(logp, key=lambda k: np.mean(logp[k]))
answer_2 = (by_sum, by_mean)
print(answer_2)
verdict = scicot.check_exercise(2, answer_2)"""),
    3: ("""Fact recall is the share of the gold rationale's steps that the generated one states verbatim. Three of the
four steps match; the (C) step names the wrong material, so it does not: 3 / 4.""",
        """gold = "(A) nail is iron : yes . (B) cup is glass : no . (C) crayon is wax : yes . (D) coin is copper : no ."
generated = "(A) nail is iron : yes . (B) cup is glass : no . (C) crayon is rubber : no . (D) coin is copper : no ."
answer_3 = scicot.fact_recall([generated], [gold])
print(answer_3)
verdict = scicot.check_exercise(3, answer_3)"""),
    4: ("""`model(**x, labels=y).loss` is the mean cross-entropy over the target tokens, and the tokenizer appends the end
token `</s>` to each option. Minus the loss times the number of target tokens is therefore the summed
log-likelihood of the option followed by `</s>`: one number per option.""",
        """from paperlab.worlds import sciqa
kb, held, tok = scicot.world()
test_q = sciqa.make_questions(kb, held, "test", 3, seed=1000)
ex_model = scicot.make_student(tok, seed=3).eval()

def my_option_logp(model, source, options):
    x = tok([source], return_tensors="pt")
    out = []
    for o in options:
        y = tok([o], return_tensors="pt")["input_ids"]  # the option's tokens + </s>
        with torch.no_grad():
            out.append(-model(**x, labels=y).loss * y.shape[1])
    return torch.stack(out)

verdict = scicot.check_exercise(4, my_option_logp, model=ex_model, tokenizer=tok, questions=test_q)"""),
    5: ("""For each method take the mean accuracy at 0% noise minus the mean at 30%; the larger drop names the method,
unless the two drops are within 2 points ("neither"). The code works on any `noise_per` of the notebook's shape;
here it runs on an example dict (the notebook's measured one gives the notebook's answer).""",
        """noise_per = {0: {"two-stage": [0.92], "oracle": [1.0]}, 10: {"two-stage": [0.85], "oracle": [1.0]},
             30: {"two-stage": [0.70], "oracle": [0.97]}}
drop = {k: np.mean(noise_per[0][k]) - np.mean(noise_per[30][k]) for k in ("two-stage", "oracle")}
answer_5 = "neither" if abs(drop["two-stage"] - drop["oracle"]) <= 0.02 else max(drop, key=drop.get)
print(drop, answer_5)
verdict = scicot.check_exercise(5, answer_5, noise_per=noise_per)"""),
}
