"""paperlab.worlds.pydocs: query construction, the collection, TREC loaders."""

from pathlib import Path

import pytest
from paperlab.worlds import pydocs

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples" / "trec"


def test_name_words_split_dotted_snake_and_camel():
    assert {"os", "path", "getsize"} <= pydocs.name_words("os.path.getsize")
    assert {"text", "wrapper", "textwrapper"} <= pydocs.name_words("textwrap.TextWrapper")
    assert {"task", "done"} <= pydocs.name_words("queue.Queue.task_done")


def test_first_sentence_drops_signature_lines():
    first, rest = pydocs.split_first_sentence("join(a, *p)\nJoin two paths. The rest\nfollows.\n\nMore.")
    assert first == "Join two paths."
    assert rest.startswith("The rest") and rest.endswith("More.")


def test_query_has_no_name_word_and_no_identifier():
    q = pydocs.make_query("Return the size of a file, as reported by os.stat() or st_size.", "os.path.getsize")
    words = {w.strip(".,").lower() for w in q.split()}
    assert not words & pydocs.name_words("os.path.getsize")
    assert "st_size" not in q and "os.stat()" not in q
    assert "file" in words


def test_small_collection_has_graded_qrels_and_disjoint_fixed_splits():
    col = pydocs.build(modules=("json", "textwrap", "heapq", "bisect", "fnmatch", "shlex", "difflib"), n_test=10)
    assert set(col.test_qids).isdisjoint(col.train_pool)
    for q in col.queries:
        grades = col.qrels[q]
        assert sorted(set(grades.values()))[-1] == 2 and set(grades) <= set(col.docs)
    # the query side (first sentences) never appears in a document
    for text in list(col.queries.values())[:20]:
        assert all(text not in d for d in col.docs.values())
    assert col.train_qids(5, seed=1) == col.train_qids(5, seed=1) != col.train_qids(5, seed=2)
    with pytest.raises(ValueError, match="training pool"):
        col.train_qids(10**6, seed=0)


def test_registered_collection_loads_with_its_python_version():
    col = pydocs.load()
    assert len(col.docs) > 2000 and len(col.test_qids) == pydocs.N_TEST
    assert col.python_version.count(".") == 2


def test_trec_files_round_trip(tmp_path):
    topics = pydocs.read_topics(SAMPLES / "topics.txt")
    assert topics == {"301": "International Organized Crime", "302": "Poliomyelitis and Post-Polio"}
    assert pydocs.read_topics(SAMPLES / "topics.txt", field="desc")["302"].startswith("Is the disease")
    qrels = pydocs.read_qrels(SAMPLES / "qrels.txt")
    assert qrels["301"] == {"FBIS3-10082": 1, "FBIS3-10169": 0, "LA010189-0001": 2}
    run = pydocs.read_run(SAMPLES / "run.txt")
    assert list(sorted(run["301"], key=run["301"].get, reverse=True))[0] == "LA010189-0001"
    assert pydocs.read_run(pydocs.write_run(run, tmp_path / "run.txt")) == run
    assert pydocs.read_qrels(pydocs.write_qrels(qrels, tmp_path / "qrels.txt")) == qrels


def test_trec_bad_input_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown documents"):
        pydocs.read_qrels(SAMPLES / "qrels.txt", docids=["FBIS3-10082"])
    bad = tmp_path / "topics.txt"
    bad.write_text("no topics here")
    with pytest.raises(ValueError, match="<top>"):
        pydocs.read_topics(bad)
    with pytest.raises(ValueError, match="field"):
        pydocs.read_topics(SAMPLES / "topics.txt", field="body")
