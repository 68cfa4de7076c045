"""Python's own documentation as an offline ad-hoc retrieval collection (the PROP notebook's world).

Documents are passages of stdlib docstrings (``inspect.getdoc`` over a fixed module list) and of the
language-reference topics in ``pydoc_data.topics``. Queries are built from the *first sentence* of a
docstring with the object's name words removed; the first sentence never appears in any document,
so the query side stays out of pre-training and lexical matching alone does not solve the task:

* grade 2: the first passage of the rest of that docstring;
* grade 1: its other passages, and the first passage of the parent (the class of a method).

Splits are fixed: 200 test queries and a training pool from which a seed draws its fine-tuning
queries. Docstrings change between Python versions, so the collection built here is saved to
``data/prop/pydocs.json.gz`` with the Python version in ``data/REGISTRY.toml``; ``load()`` reads
that file, ``build()`` regenerates it from the running interpreter.

For the gpu profile the real benchmarks (Robust04, ClueWeb09, Gov2) come as TREC files: topics in
the SGML ``<top>`` format, qrels ``qid 0 docid rel`` and runs ``qid Q0 docid rank score tag``;
``read_topics`` / ``read_qrels`` / ``read_run`` / ``write_run`` handle them (tested on
``data/samples/trec/``).
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import json
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODULES = (
    "os", "os.path", "re", "json", "collections", "itertools", "functools", "string", "textwrap",
    "math", "cmath", "statistics", "random", "datetime", "time", "pathlib", "shutil", "glob", "fnmatch",
    "tempfile", "io", "csv", "heapq", "bisect", "copy", "pickle", "struct", "zlib", "gzip", "bz2",
    "lzma", "tarfile", "zipfile", "hashlib", "hmac", "base64", "binascii", "urllib.parse",
    "urllib.request", "http.client", "http.cookies", "email.message", "email.utils", "logging",
    "argparse", "subprocess", "threading", "queue", "socket", "selectors", "unittest", "doctest",
    "inspect", "typing", "dataclasses", "enum", "abc", "contextlib", "operator", "decimal",
    "fractions", "difflib", "pprint", "calendar", "locale", "gettext", "shlex", "configparser",
    "sqlite3", "xml.etree.ElementTree", "html", "html.parser", "ftplib", "smtplib", "uuid",
    "ipaddress", "secrets", "traceback", "warnings", "weakref", "types", "codecs", "unicodedata",
    "array", "sched", "platform", "sysconfig", "pkgutil", "importlib", "tokenize", "ast", "dis",
    "timeit", "cProfile", "pstats", "mimetypes", "wave", "colorsys", "graphlib", "zoneinfo",
    "concurrent.futures", "multiprocessing", "asyncio", "mailbox", "netrc", "plistlib", "quopri",
    "reprlib", "stringprep", "symtable", "tabnanny", "trace", "tracemalloc", "filecmp", "fileinput",
    "linecache", "keyword", "numbers", "getpass", "getopt", "optparse", "gc", "atexit", "builtins",
)
N_TEST = 200
_SIG_LINE = re.compile(r"^[\w.]+\(.*\)(\s*->.*)?$")
_WORD = re.compile(r"[A-Za-z]+")


@dataclass
class Collection:
    """Documents, queries, graded qrels and fixed splits.

    ``docs``: {docid: text}; ``queries``: {qid: text}; ``qrels``: {qid: {docid: grade}};
    ``test_qids`` (fixed) and ``train_pool`` (fine-tuning queries are drawn from it).
    """

    docs: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    test_qids: list[str]
    train_pool: list[str]
    python_version: str = ""
    meta: dict = field(default_factory=dict)

    def train_qids(self, n: int, seed: int) -> list[str]:
        """``n`` fine-tuning queries drawn (without replacement) from the pool by ``seed``."""
        if not 1 <= n <= len(self.train_pool):
            raise ValueError(f"n must be in [1, {len(self.train_pool)}] (the training pool), got {n}")
        order = np.random.default_rng(seed).permutation(len(self.train_pool))
        return [self.train_pool[i] for i in order[:n]]


def name_words(qualname: str) -> set[str]:
    """Lower-cased words of a dotted / snake_case / CamelCase name: 'os.path.getsize' -> {os, path, getsize, get, size}."""
    words = set()
    for part in re.split(r"[._]", qualname):
        if not part:
            continue
        words.add(part.lower())
        words.update(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", part))
    return {w for w in words if len(w) > 1}


def split_first_sentence(doc: str) -> tuple[str, str]:
    """(first sentence, rest) of a cleaned docstring; signature lines at the top are dropped."""
    lines = doc.strip().splitlines()
    while lines and _SIG_LINE.match(lines[0].strip()):
        lines = lines[1:]
    text = "\n".join(lines).strip()
    para, _, after = text.partition("\n\n")
    m = re.search(r"(?<=[.!?])\s", para)
    if m:
        return para[: m.start()].strip(), (para[m.end():] + "\n\n" + after).strip()
    return para.strip(), after.strip()


def make_query(first_sentence: str, qualname: str, max_words: int = 16) -> str:
    """The first sentence with every word of the object's name removed (so it is not a name lookup)."""
    banned = name_words(qualname)
    words = []
    for tok in first_sentence.split():
        core = tok.strip("`'\"().,:;!?[]{}*").lower()
        parts = set(re.split(r"[._()]", core)) | {core}
        if core and (parts & banned or core in banned or "_" in core or "(" in tok):
            continue  # a name word, or a code identifier (tm_sec, f(x)) that would be a name lookup
        words.append(tok.strip("`'\"*"))
    return " ".join(words[:max_words]).strip(" .,:;")


def _n_content_words(text: str) -> int:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sum(w.lower() not in ENGLISH_STOP_WORDS for w in _WORD.findall(text))


def passages(text: str, max_words: int = 64) -> list[str]:
    """Split ``text`` into passages of at most ``max_words`` whitespace words."""
    words = text.split()
    return [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]


def _objects(modname: str):
    """(qualname, parent qualname, docstring) for a module's public functions, classes and methods."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mod = importlib.import_module(modname)
    except Exception:  # a module missing on this platform is skipped, the registry records the version
        return
    for name, obj in sorted(vars(mod).items()):
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
            continue
        home = (getattr(obj, "__module__", None) or modname).lstrip("_").split(".")[0]
        if home != modname.split(".")[0] and home not in ("posixpath", "genericpath"):
            continue  # a re-export (statistics.Decimal): documented under its own module
        qual = f"{modname}.{name}"
        yield qual, modname, inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for mname, meth in sorted(vars(obj).items()):
                if mname.startswith("_") or not callable(meth):
                    continue
                yield f"{qual}.{mname}", qual, inspect.getdoc(meth) or ""


def build(modules: Iterable[str] = MODULES, max_words: int = 64, min_rest_words: int = 15,
          n_test: int = N_TEST, seed: int = 0) -> Collection:
    """Build the collection from the running interpreter's docstrings (deterministic for one Python version)."""
    import pydoc_data.topics

    docs, queries, qrels, first_pid, seen_rest, seen_query = {}, {}, {}, {}, set(), set()
    with warnings.catch_warnings():  # iterating typing / asyncio namespaces touches deprecated aliases
        warnings.simplefilter("ignore")
        objects = [(modname, o) for modname in modules for o in _objects(modname)]
    for modname, (qual, parent, doc) in objects:
        first, rest = split_first_sentence(doc)
        if len(rest.split()) < min_rest_words or rest in seen_rest:
            continue
        seen_rest.add(rest)
        pids = [f"{qual}#{i}" for i in range(len(passages(rest, max_words)))]
        docs.update(zip(pids, passages(rest, max_words)))
        first_pid[qual] = pids[0]
        q = make_query(first, qual)
        if _n_content_words(q) < 3 or q.lower() in seen_query:
            continue
        seen_query.add(q.lower())
        qid = f"q{len(queries):04d}"
        queries[qid] = q
        qrels[qid] = {pids[0]: 2, **{p: 1 for p in pids[1:]}}
        if parent in first_pid and parent != modname:  # a method's class is partly relevant
            qrels[qid].setdefault(first_pid[parent], 1)
    for key, text in sorted(pydoc_data.topics.topics.items()):  # language-reference distractors
        for i, p in enumerate(passages(text, max_words)):
            docs[f"topic:{key}#{i}"] = p
    qids = sorted(queries)
    if len(qids) <= n_test:
        raise ValueError(f"only {len(qids)} queries were built; need more than n_test={n_test}")
    order = np.random.default_rng(seed).permutation(len(qids))
    test = sorted(qids[i] for i in order[:n_test])
    pool = sorted(qids[i] for i in order[n_test:])
    return Collection(docs, queries, qrels, test, pool, python_version=sys.version.split()[0],
                      meta={"max_words": max_words, "min_rest_words": min_rest_words, "n_modules": len(tuple(modules))})


def save(col: Collection, path: str | Path) -> Path:
    """Write the collection as gzipped JSON (stable key order, so the sha256 is reproducible)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(col.__dict__, sort_keys=True, ensure_ascii=False).encode()
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(blob)
    return path


def load(name: str = "prop/pydocs.json.gz") -> Collection:
    """The registered collection (sha256-verified); ``build()`` + ``save()`` regenerate it."""
    from paperlab.core import assets

    with gzip.open(assets.path(name), "rb") as f:
        d = json.loads(f.read())
    return Collection(**d)


def build_and_register(name: str = "prop/pydocs.json.gz") -> Collection:
    """Build from this interpreter, save under ``data/`` and register with the Python version."""
    from paperlab.core import assets
    from paperlab.core.paths import data_dir

    col = build()
    save(col, data_dir() / name)
    assets.register(name, command="python -m paperlab.prop train", python_version=col.python_version,
                    n_docs=len(col.docs), n_queries=len(col.queries))
    return col


# ----------------------------------------------------------------------------------- TREC formats
def read_topics(path: str | Path, field: str = "title") -> dict[str, str]:
    """TREC SGML topics (``<top><num> Number: 301 <title> ...``) -> {qid: text of ``field``}."""
    if field not in ("title", "desc", "narr"):
        raise ValueError(f"field must be 'title', 'desc' or 'narr', got {field!r}")
    text = Path(path).read_text()
    tops = re.findall(r"<top>(.*?)</top>", text, flags=re.S)
    if not tops:
        raise ValueError(f"{path} holds no <top>...</top> block: not a TREC topics file")
    out = {}
    for top in tops:
        num = re.search(r"<num>\s*(?:Number:)?\s*(\S+)", top)
        m = re.search(rf"<{field}>\s*(?:Description:|Narrative:|Topic:)?(.*?)(?=<\w+>|$)", top, flags=re.S)
        if num is None or m is None:
            raise ValueError(f"a topic in {path} lacks <num> or <{field}>")
        out[num.group(1)] = " ".join(m.group(1).split())
    return out


def read_qrels(path: str | Path, docids: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    """TREC qrels (``qid iter docid rel``) via ir_measures -> {qid: {docid: rel}}.

    With ``docids``, a qrel naming a document outside the collection is an error.
    """
    import ir_measures

    out: dict[str, dict[str, int]] = {}
    for q in ir_measures.read_trec_qrels(str(path)):
        out.setdefault(q.query_id, {})[q.doc_id] = int(q.relevance)
    if docids is not None:
        known = set(docids)
        unknown = sorted({d for rels in out.values() for d in rels} - known)
        if unknown:
            raise ValueError(f"qrels name {len(unknown)} unknown documents, e.g. {unknown[:3]}")
    return out


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    """TREC run (``qid Q0 docid rank score tag``) via ir_measures -> {qid: {docid: score}}."""
    import ir_measures

    out: dict[str, dict[str, float]] = {}
    for s in ir_measures.read_trec_run(str(path)):
        out.setdefault(s.query_id, {})[s.doc_id] = float(s.score)
    return out


def write_run(run: dict[str, dict[str, float]], path: str | Path, tag: str = "paperlab") -> Path:
    """Write {qid: {docid: score}} as a TREC run, ranks by descending score."""
    path = Path(path)
    lines = []
    for qid in sorted(run):
        ranked = sorted(run[qid].items(), key=lambda kv: (-kv[1], kv[0]))
        lines += [f"{qid} Q0 {d} {r} {s:.6f} {tag}" for r, (d, s) in enumerate(ranked, start=1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_qrels(qrels: dict[str, dict[str, int]], path: str | Path) -> Path:
    """Write {qid: {docid: rel}} as TREC qrels."""
    path = Path(path)
    path.write_text("".join(f"{q} 0 {d} {r}\n" for q in sorted(qrels) for d, r in sorted(qrels[q].items())))
    return path
