import pytest
import torch
from paperlab.core import assets, train


@pytest.fixture
def tmp_repo(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PAPERLAB_HOME", str(tmp_path))
    monkeypatch.delenv("PAPERLAB_RETRAIN", raising=False)
    return tmp_path


def _problem():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    return [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]


def _loss(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x).squeeze(-1), y)


def test_fit_learns_a_linear_map():
    data = _problem()
    model = torch.nn.Linear(3, 1)
    hist = train.fit(model, _loss, data, epochs=60, lr=0.1, progress=False)
    assert hist.train_loss[-1] < 0.01 * hist.train_loss[0]
    assert hist.steps == 60 * len(data)


def test_early_stopping_restores_best():
    data = _problem()
    model = torch.nn.Linear(3, 1)
    vals = iter([3.0, 1.0, 2.0, 2.5, 2.6, 2.7])
    hist = train.fit(model, _loss, data, epochs=6, lr=0.01, val_fn=lambda m: next(vals), patience=2, progress=False)
    assert hist.stopped_early and hist.best_epoch == 1 and len(hist.val) == 4


def test_fit_rejects_frozen_model():
    model = torch.nn.Linear(3, 1).requires_grad_(False)
    with pytest.raises(ValueError, match="trainable"):
        train.fit(model, _loss, _problem(), epochs=1, progress=False)


def test_load_or_train_trains_once_then_loads(tmp_repo):
    calls = []

    def make():
        calls.append(1)
        return {"w": torch.ones(2)}

    a = train.load_or_train("m/ckpt.pt", make, command="make train NB=x")
    b = train.load_or_train("m/ckpt.pt", make)
    assert len(calls) == 1
    torch.testing.assert_close(a["w"], b["w"])
    assert assets.entry("m/ckpt.pt")["command"] == "make train NB=x"
    train.load_or_train("m/ckpt.pt", make, retrain=True)
    assert len(calls) == 2


def test_corrupted_checkpoint_errors(tmp_repo):
    p = tmp_repo / "data" / "bad.pt"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="corrupted"):
        train.load_checkpoint(p)
    with pytest.raises(FileNotFoundError):
        train.load_checkpoint(tmp_repo / "data" / "none.pt")


def test_load_or_train_never_retrains_silently(tmp_repo, capsys):
    calls = []

    def make():
        calls.append(1)
        return {"w": torch.ones(2)}

    train.load_or_train("m/ckpt.pt", make, command="make train NB=x")
    assert "nothing committed yet" in capsys.readouterr().out
    # registry entry lost (an interrupted or damaged registry): an error naming the fix, no retrain
    (tmp_repo / "data" / "REGISTRY.toml").unlink()
    with pytest.raises(assets.AssetError, match="git checkout -- data/REGISTRY.toml"):
        train.load_or_train("m/ckpt.pt", make)
    assert len(calls) == 1
    # entry present but file missing: an error naming git checkout and the train command
    train.load_or_train("m/ckpt.pt", make, retrain=True)
    assert "retraining m/ckpt.pt" in capsys.readouterr().out
    (tmp_repo / "data" / "m" / "ckpt.pt").unlink()
    with pytest.raises(assets.AssetError, match="git checkout -- data/m/ckpt.pt"):
        train.load_or_train("m/ckpt.pt", make)
    assert len(calls) == 2


@pytest.mark.parametrize("raw", ["False", "off", "NO", "0"])
def test_retrain_flag_false_values_do_not_retrain(tmp_repo, monkeypatch, raw):
    monkeypatch.setenv("PAPERLAB_RETRAIN", raw)
    assert train.retrain_requested() is False
    monkeypatch.setenv("PAPERLAB_RETRAIN", "sometimes")
    with pytest.raises(ValueError, match="PAPERLAB_RETRAIN"):
        train.retrain_requested()
