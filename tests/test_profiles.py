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
