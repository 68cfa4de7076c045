import pytest
from paperlab.core.profiles import PROFILES, Profile, profile


def test_env_selects_profile(monkeypatch):
    monkeypatch.setenv("PAPERLAB_PROFILE", "smoke")
    assert profile().name == "smoke"


def test_unknown_profile_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("PAPERLAB_PROFILE", "fast")
    with pytest.raises(ValueError) as err:
        profile()
    for name in PROFILES:
        assert name in str(err.value)
    assert "fast" in str(err.value)


def test_default_is_cpu_without_cuda(monkeypatch):
    monkeypatch.delenv("PAPERLAB_PROFILE", raising=False)
    monkeypatch.setattr("paperlab.core.profiles._cuda_available", lambda: False)
    assert profile().name == "cpu"
    monkeypatch.setattr("paperlab.core.profiles._cuda_available", lambda: True)
    assert profile().name == "gpu"


def test_pick():
    P = Profile("cpu")
    assert P.pick(smoke=1, cpu=2, gpu=3) == 2


def test_pick_missing_active_profile_names_it():
    with pytest.raises(KeyError, match="'gpu'"):
        Profile("gpu").pick(smoke=1, cpu=2)


def test_pick_rejects_unknown_names():
    with pytest.raises(ValueError, match="fast"):
        Profile("cpu").pick(cpu=1, fast=2)


def test_only_cpu_records_claims():
    assert Profile("cpu").claims_are_recorded
    assert not Profile("smoke").claims_are_recorded


def test_samples_dry_run_picks_samples_and_points_at_data_samples(monkeypatch):
    monkeypatch.setenv("PAPERLAB_PROFILE", "gpu")
    monkeypatch.setenv("PAPERLAB_SAMPLES", "1")
    P = profile()
    assert P.samples and P.name == "gpu"
    assert P.pick(smoke=1, cpu=2, gpu=3, samples=4) == 4
    assert P.pick(smoke=1, cpu=2, gpu=3) == 3  # no gpu data path (e.g. sympy): the gpu value
    assert P.data_root("cifar10").parts[-2:] == ("samples", "cifar10")
    with pytest.raises(FileNotFoundError, match="no format sample"):
        P.data_root("imagenet")


def test_samples_needs_gpu_and_a_yes_no_value(monkeypatch):
    from paperlab.core.env import EnvError

    monkeypatch.setenv("PAPERLAB_PROFILE", "cpu")
    monkeypatch.setenv("PAPERLAB_SAMPLES", "1")
    with pytest.raises(ValueError, match="dry run"):
        profile()
    monkeypatch.setenv("PAPERLAB_SAMPLES", "maybe")
    with pytest.raises(EnvError, match="PAPERLAB_SAMPLES"):
        profile()
    monkeypatch.setenv("PAPERLAB_SAMPLES", "0")
    assert profile().pick(smoke=1, cpu=2, gpu=3, samples=4) == 2


def test_download_error_says_what_where_and_how():
    from paperlab.core.profiles import download_error

    e = download_error("CIFAR-10", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", "data/cifar10",
                       "unpack cifar-10-python.tar.gz into", OSError("Network is unreachable"))
    msg = str(e)
    assert "CIFAR-10" in msg and "toronto" in msg and "data/cifar10" in msg and "unreachable" in msg
    assert "PAPERLAB_SAMPLES=1" in msg
