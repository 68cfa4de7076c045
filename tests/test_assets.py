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
