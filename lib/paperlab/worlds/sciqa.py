"""Science QA world: a templated knowledge base, two-hop multiple-choice questions, a rule-based
teacher that writes (sometimes wrong) rationales, a compositional split, and an ARC-format loader.

A stand-in for ARC-Easy as used by Sci-CoT (Ma, Jiang, Fan, arXiv 2308.04679). Every question needs
two facts chained: *object -> material* ("the nail is made of iron") and *material -> property*
("iron is attracted by magnets"). A question names a property and four objects; exactly one is made
of a material with that property::

    which of these objects is attracted by magnets ?  options: sock | nail | bell | jar

The **teacher** (standing in for the LLM that writes chain-of-thought rationales) goes through the
options one by one, naming each one's material and whether that material has the property::

    (A) sock is cotton : no . (B) nail is iron : yes . (C) bell is copper : no . ...

and concludes ``so the answer is (B) .`` With probability ``noise`` it goes wrong, as an LLM's chain
of thought sometimes does, and concludes with a wrong option.

The **compositional split** holds out a set of (object, property) pairs: no training question has
a held-out pair among its options (neither as answer nor as distractor), and every option pair of
every test question is held out. So a test question asks a combination never asked in training,
while the single facts it needs appear in training rationales (checked by ``missing_facts``; one
negative fact is a known gap, see there).

``load_arc_jsonl`` reads the official ARC jsonl format (``{"id", "question": {"stem", "choices":
[{"text", "label"}]}, "answerKey"}``) for the gpu profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PROPERTIES = {  # property id -> verb phrase used in questions and rationales
    "conducts": "conducts electricity",
    "magnetic": "is attracted by magnets",
    "floats": "floats on water",
    "transparent": "is transparent",
    "burns": "burns easily",
    "absorbs": "absorbs water",
    "bends": "bends without breaking",
    "melts": "melts when warmed",
}

MATERIALS = {  # material -> properties it has (roughly true; a toy world)
    "iron": ("conducts", "magnetic"),
    "copper": ("conducts",),
    "aluminium": ("conducts", "bends"),
    "wood": ("floats", "burns"),
    "plastic": ("floats", "bends"),
    "glass": ("transparent",),
    "rubber": ("bends",),
    "paper": ("burns", "absorbs"),
    "cotton": ("burns", "absorbs", "bends"),
    "wax": ("floats", "burns", "melts"),
    "cork": ("floats",),
}

OBJECTS = {  # object -> material
    "nail": "iron", "clip": "iron", "horseshoe": "iron", "anvil": "iron",
    "coin": "copper", "wire": "copper", "bell": "copper", "pipe": "copper",
    "can": "aluminium", "foil": "aluminium", "ladder": "aluminium", "tray": "aluminium",
    "pencil": "wood", "chair": "wood", "ruler": "wood", "log": "wood",
    "bottle": "plastic", "straw": "plastic", "comb": "plastic", "bucket": "plastic",
    "window": "glass", "jar": "glass", "marble": "glass", "mirror": "glass",
    "eraser": "rubber", "tire": "rubber", "balloon": "rubber", "boot": "rubber",
    "book": "paper", "napkin": "paper", "envelope": "paper", "ticket": "paper",
    "towel": "cotton", "sock": "cotton", "shirt": "cotton", "bandage": "cotton",
    "candle": "wax", "crayon": "wax",
    "stopper": "cork", "coaster": "cork",
}

LABELS = ("(A)", "(B)", "(C)", "(D)", "(E)")  # option labels, as in ARC
QUESTION_TEMPLATES = ("which of these objects {p} ?", "which one of these {p} ?")


@dataclass(frozen=True)
class KnowledgeBase:
    """objects -> material, material -> properties, property -> phrase."""

    objects: dict = field(default_factory=lambda: dict(OBJECTS))
    materials: dict = field(default_factory=lambda: dict(MATERIALS))
    properties: dict = field(default_factory=lambda: dict(PROPERTIES))

    def has(self, obj: str, prop: str) -> bool:
        """Rule: an object has a property iff its material does."""
        return prop in self.materials[self.objects[obj]]

    def material_fact(self, obj: str, label: str = "") -> str:
        return f"{label + ' ' if label else ''}{obj} is made of {self.objects[obj]} ."

    def property_fact(self, material: str, prop: str) -> str:
        return f"{material} {self.properties[prop]} ."


@dataclass
class Question:
    """One multiple-choice question. ``answer`` indexes ``options``; ``rationale`` is the teacher's
    (possibly corrupted) rationale, ``gold_rationale`` the clean one (the oracle's input)."""

    stem: str
    options: list
    answer: int
    prop: str = ""
    rationale: str = ""
    gold_rationale: str = ""
    noisy: bool = False
    qid: str = ""

    def __post_init__(self):
        validate_question(self)

    @property
    def answer_text(self) -> str:
        return self.options[self.answer]


def validate_question(q: Question) -> None:
    """Clear errors for questions a student model cannot be scored on."""
    if not isinstance(q.options, (list, tuple)) or len(q.options) < 2:
        raise ValueError(f"question {q.qid or q.stem!r} needs at least 2 options, got {q.options!r}")
    if len(set(q.options)) != len(q.options):
        raise ValueError(f"question {q.qid or q.stem!r} has duplicate options {q.options!r}")
    if not isinstance(q.answer, (int, np.integer)) or not 0 <= q.answer < len(q.options):
        raise ValueError(f"question {q.qid or q.stem!r}: gold answer index {q.answer!r} is not among its "
                         f"{len(q.options)} options {q.options!r}")


def option_fact(kb: KnowledgeBase, label: str, obj: str, prop: str, material: str | None = None) -> str:
    """One rationale step: ``(C) crayon is wax : yes .`` (made of wax; yes = wax has ``prop``)."""
    material = material or kb.objects[obj]
    verdict = "yes" if prop in kb.materials[material] else "no"
    return f"{label} {obj} is {material} : {verdict} ."


def teacher_rationale(kb: KnowledgeBase, options: list, prop: str, answer: int,
                      rng: np.random.Generator | None = None, noise: float = 0.0) -> tuple[str, str, bool]:
    """The rule-based teacher: each option's material and whether it has ``prop``, then the answer.

    Returns ``(rationale, gold_rationale, noisy)``. With probability ``noise`` the teacher goes wrong
    the way an LLM's chain of thought does: it gives the answer a distractor's material (so "no"),
    credits that distractor with the property ("yes") and concludes with the distractor.
    """
    steps = [option_fact(kb, LABELS[i], o, prop) for i, o in enumerate(options)]
    gold = " ".join(steps + [f"so the answer is {LABELS[answer]} ."])
    if rng is None or noise <= 0 or rng.random() >= noise:
        return gold, gold, False
    w = int(rng.choice([i for i in range(len(options)) if i != answer]))
    steps[answer] = f"{LABELS[answer]} {options[answer]} is {kb.objects[options[w]]} : no ."
    steps[w] = steps[w].replace(": no .", ": yes .")
    return " ".join(steps + [f"so the answer is {LABELS[w]} ."]), gold, True


def compositional_split(kb: KnowledgeBase, holdout: float = 0.3, seed: int = 0) -> set:
    """Held-out (object, property) pairs; the rest may be asked in training.

    Per property, a ``holdout`` share of objects is held out, with at least one object having the
    property and three lacking it (so test questions can be built only from held-out pairs), while
    every (material, property) fact keeps at least one training object (so it appears in training
    rationales).
    """
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    r = np.random.default_rng(seed)
    objs = sorted(kb.objects)
    held = set()
    for prop in sorted(kb.properties):
        pos = [o for o in objs if kb.has(o, prop)]
        neg = [o for o in objs if not kb.has(o, prop)]
        by_mat: dict = {}
        for o in pos:
            by_mat.setdefault(kb.objects[o], []).append(o)
        # positives: hold out at most all-but-one object of each material
        cand = [o for m, os_ in by_mat.items() for o in r.permutation(os_)[: len(os_) - 1]]
        n_pos = max(1, int(round(holdout * len(pos))))
        pos_h = list(r.permutation(cand)[:n_pos]) if cand else []
        n_neg = max(3, int(round(holdout * len(neg))))
        neg_h = list(r.permutation(neg)[:n_neg])
        held |= {(str(o), prop) for o in pos_h + neg_h}
    return held


def make_questions(kb: KnowledgeBase, held: set, part: str, n: int, seed: int = 0, noise: float = 0.0,
                   n_options: int = 4) -> list:
    """``n`` questions from the ``part`` ("train" or "test") side of the split ``held``."""
    if part not in ("train", "test"):
        raise ValueError(f"part must be 'train' or 'test', got {part!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    r = np.random.default_rng(seed)
    inside = (lambda o, p: (o, p) not in held) if part == "train" else (lambda o, p: (o, p) in held)
    objs = sorted(kb.objects)
    pools = {p: ([o for o in objs if kb.has(o, p) and inside(o, p)],
                 [o for o in objs if not kb.has(o, p) and inside(o, p)]) for p in sorted(kb.properties)}
    props = [p for p, (pos, neg) in pools.items() if pos and len(neg) >= n_options - 1]
    if not props:
        raise ValueError(f"the {part} split has no property with enough objects to build a question")
    out = []
    for i in range(n):
        prop = str(r.choice(props))
        pos, neg = pools[prop]
        options = [str(r.choice(pos))] + [str(o) for o in r.choice(neg, n_options - 1, replace=False)]
        order = r.permutation(n_options)
        options = [options[j] for j in order]
        answer = int(np.argmax(order == 0))
        stem = QUESTION_TEMPLATES[int(r.integers(len(QUESTION_TEMPLATES)))].format(p=kb.properties[prop])
        rat, gold, noisy = teacher_rationale(kb, options, prop, answer, r, noise)
        out.append(Question(stem, options, answer, prop, rat, gold, noisy, qid=f"{part}-{seed}-{i}"))
    return out


def option_pairs(questions: list) -> set:
    """All (option, property) pairs the questions ask about."""
    return {(o, q.prop) for q in questions for o in q.options}


def facts(rationale: str) -> set:
    """The facts (sentences, option labels removed) a rationale states."""
    out = set()
    for s in rationale.split(" ."):
        s = s.strip()
        if s[:1] == "(" and ") " in s:
            s = s.split(") ", 1)[1]
        if s:
            out.add(s)
    return out


def atomic_facts(kb: KnowledgeBase, q: Question) -> set:
    """The single facts a question's gold rationale rests on: "nail is iron", "iron | conducts | yes"."""
    out = set()
    for o in q.options:
        m = kb.objects[o]
        out |= {f"{o} is {m}", f"{m} | {q.prop} | {'yes' if q.prop in kb.materials[m] else 'no'}"}
    return out


def missing_facts(kb: KnowledgeBase, train: list, test: list) -> set:
    """Single facts some test question needs that no training rationale states.

    A rationale step "(C) crayon is wax : yes" for property P states two facts: crayon is made of
    wax, and wax has P. The test *combination* (crayon, P) is new; the facts should not be. Known gap
    of ``compositional_split(seed=0)``: both cork objects are held out for "absorbs water", so
    "cork | absorbs | no" is never stated in training (the split only protects positive facts).
    """
    seen = set().union(*(atomic_facts(kb, q) for q in train))
    need = set().union(*(atomic_facts(kb, q) for q in test))
    return need - seen


def facts_covered(kb: KnowledgeBase, train: list, test: list) -> bool:
    """True when every single fact the test questions need appears in some training rationale."""
    return not missing_facts(kb, train, test)


def world_texts(kb: KnowledgeBase) -> list:
    """Every sentence the world can produce (to train the word-level tokenizer)."""
    texts = [t.format(p=p) for t in QUESTION_TEMPLATES for p in kb.properties.values()]
    texts += [f"{o} is {m} : yes no ." for o, m in kb.objects.items()] + ["so the answer is"]
    texts += list(kb.objects) + list(LABELS)
    return texts


def load_arc_jsonl(path: str | Path, limit: int | None = None) -> list:
    """Read ARC-Easy / ARC-Challenge questions from the official jsonl format."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ARC file {path} does not exist")
    out = []
    for ln, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            stem = rec["question"]["stem"]
            labels = [c["label"] for c in rec["question"]["choices"]]
            texts = [c["text"] for c in rec["question"]["choices"]]
            key = rec["answerKey"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{ln} is not an ARC record ({type(exc).__name__}: {exc})") from exc
        if key not in labels:
            raise ValueError(f"{path}:{ln}: answerKey {key!r} is not among the choice labels {labels}")
        out.append(Question(stem, texts, labels.index(key), qid=rec.get("id", f"{path.stem}-{ln}")))
        if limit is not None and len(out) >= limit:
            break
    if not out:
        raise ValueError(f"{path} holds no ARC questions")
    return out
