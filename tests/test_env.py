"""One offline rule for weights, datasets and hub models: huggingface_hub's own (1/true/yes/on)."""

from __future__ import annotations

import pytest

from imagevars import _env
from imagevars.models import hub


@pytest.mark.parametrize(
    "value, off",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("", False),
        ("no", False),
    ],
)
@pytest.mark.parametrize("var", ["IMAGEVARS_OFFLINE", "HF_HUB_OFFLINE"])
def test_every_part_reads_the_same_offline_rule(monkeypatch, var, value, off):
    monkeypatch.setenv(var, value)
    assert _env.offline() is off
    assert hub.offline is _env.offline  # the hub code asks the same function, not a copy


def test_hf_hub_offline_false_means_online_for_hub_models_too(monkeypatch, tmp_path):
    """HF_HUB_OFFLINE=false once meant offline for hub models and online for weights."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "false")
    monkeypatch.setattr(hub, "unreachable", lambda: None)  # the hub answers (tests/models/test_hub_reach.py: when not)
    message = hub.load_error("detector", "owner/name", local=False, exc=OSError("no route"))
    assert "downloads are off" not in message and "your connection" in message
