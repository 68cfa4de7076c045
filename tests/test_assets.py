import pytest
from paperlab.core import assets


@pytest.fixture
def tmp_repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    return tmp_path


def test_register_and_verify(tmp_repo):
    f = tmp_repo / "data" / "thing.bin"
    f.write_bytes(b"hello")
    meta = assets.register("thing.bin", command="make thing", seeds=[0], eval={"acc": 0.5})
    assert meta["size"] == 5
    assert assets.path("thing.bin") == f
    assert assets.entry("thing.bin")["eval"]["acc"] == 0.5


def test_corrupted_file_names_hashes_and_command(tmp_repo):
    f = tmp_repo / "data" / "thing.bin"
    f.write_bytes(b"hello")
    meta = assets.register("thing.bin", command="make thing")
    f.write_bytes(b"hellO")
    with pytest.raises(assets.AssetError) as err:
        assets.path("thing.bin")
    msg = str(err.value)
    assert "thing.bin" in msg and meta["sha256"] in msg and assets.sha256_of(f) in msg and "make thing" in msg


def test_unregistered_and_missing(tmp_repo):
    with pytest.raises(assets.AssetError, match="not in"):
        assets.path("nope.bin")
    f = tmp_repo / "data" / "gone.bin"
    f.write_bytes(b"x")
    assets.register("gone.bin", command="make gone")
    f.unlink()
    with pytest.raises(assets.AssetError, match="missing.*make gone"):
        assets.path("gone.bin")


def test_committed_registry_entries_verify():
    """Every file the repository registers is present and matches its hash."""
    for name in assets.load_registry():
        assets.path(name)


def test_malformed_registry_names_the_file(tmp_repo):
    (tmp_repo / "data" / "REGISTRY.toml").write_text("[assets\nbroken = ")
    with pytest.raises(assets.AssetError, match="REGISTRY.toml.*git checkout"):
        assets.load_registry()


def test_sha_mismatch_suggests_git_checkout_first(tmp_repo):
    (tmp_repo / "data" / "f.bin").write_bytes(b"a")
    assets.register("f.bin", command="make train NB=x")
    (tmp_repo / "data" / "f.bin").write_bytes(b"b")
    with pytest.raises(assets.AssetError, match="git checkout -- data/f.bin"):
        assets.path("f.bin")


def _register_many(home, k):
    import os

    os.environ["PAPERLAB_HOME"] = home
    from paperlab.core import assets as a

    for i in range(15):
        name = f"w{k}-{i}.bin"
        (a.data_dir() / name).write_bytes(bytes([k, i]))
        a.register(name, command="test")


def test_concurrent_registers_lose_no_entry(tmp_repo):
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_register_many, args=(str(tmp_repo), k)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    assert len(assets.load_registry()) == 30


def test_unregister_removes_the_entry_and_optionally_the_file(tmp_repo):
    for n in ("a.bin", "b.bin"):
        (tmp_repo / "data" / n).write_bytes(n.encode())
        assets.register(n, command="make " + n)
    assert assets.unregister("a.bin")["command"] == "make a.bin"
    assert "a.bin" not in assets.load_registry() and (tmp_repo / "data" / "a.bin").exists()
    assets.unregister("b.bin", delete_file=True)
    assert assets.load_registry() == {} and not (tmp_repo / "data" / "b.bin").exists()
    with pytest.raises(assets.AssetError, match="not registered"):
        assets.unregister("a.bin")
