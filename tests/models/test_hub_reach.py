"""A machine that cannot reach the Hugging Face hub uses its cache at once and says why, instead of waiting on
every file's retries (2.5 minutes for CLIP when the name does not resolve)."""

import pytest

from imagevars.models import hub
from sockets import unused_port


class _Recorder:
    """Stands in for a transformers class: records how it was asked to load, then finds nothing."""

    calls: list = []

    @classmethod
    def from_pretrained(cls, repo, **kw):
        cls.calls.append(kw)
        raise OSError(f"{repo} is not in the cache")


@pytest.fixture
def endpoint(monkeypatch):
    """endpoint(url): the hub's address for this test (as HF_ENDPOINT sets it), the probe forgotten."""
    from huggingface_hub import constants

    def use(url: str) -> None:
        monkeypatch.setattr(constants, "ENDPOINT", url.rstrip("/"))
        hub._PROBED.clear()
        _Recorder.calls.clear()

    yield use
    hub._PROBED.clear()


def test_an_unreachable_hub_means_the_cache_alone_and_the_error_says_why(endpoint):
    endpoint(f"http://127.0.0.1:{unused_port()}")
    with pytest.raises(
        RuntimeError,
        match=r"not in the cache and the hub cannot be reached from here "
        r"\(http://127\.0\.0\.1:\d+: .*\): run once with internet",
    ):
        hub.from_pretrained("someone/model", None, "detector", RuntimeError, _Recorder)
    assert _Recorder.calls[0]["local_files_only"] is True  # no request per file


def test_a_reachable_hub_is_asked_and_a_wrong_name_is_named(endpoint, serve, tmp_path):
    endpoint(serve(tmp_path))  # any HTTP answer, here a 501 to HEAD, means the hub is there
    with pytest.raises(RuntimeError, match="check the name on huggingface.co and your connection"):
        hub.from_pretrained("someone/model", None, "detector", RuntimeError, _Recorder)
    assert _Recorder.calls[0]["local_files_only"] is False


def test_the_hub_is_probed_once_per_endpoint_and_again_after_a_while(endpoint, monkeypatch):
    from huggingface_hub import utils

    asked, clock = [], [1000.0]

    class Session:
        def head(self, url, timeout):
            asked.append(url)
            raise ConnectionError("no route to host")

    monkeypatch.setattr(utils, "get_session", lambda: Session())
    monkeypatch.setattr(hub, "_clock", lambda: clock[0])
    endpoint("http://hub.invalid")
    assert hub.local_only() and hub.local_only() and asked == ["http://hub.invalid"]
    clock[0] += hub.PROBE_TTL_S + 1  # a notebook that came back online finds out
    assert hub.local_only() and len(asked) == 2
    endpoint("http://mirror.invalid")
    assert hub.unreachable() == "http://mirror.invalid: no route to host"


def test_a_cached_model_loads_with_no_hub_in_reach(endpoint, offline_hub, monkeypatch, tmp_path):
    """The cache is used as it is, with downloads allowed but the hub out of reach."""
    from hubmodels import tiny_vit
    from imagevars.tasks import ClassifyTask

    monkeypatch.delenv("IMAGEVARS_OFFLINE")
    tiny_vit(tmp_path / "vit", offline_hub, classes=3)
    endpoint(f"http://127.0.0.1:{unused_port()}")
    assert len(ClassifyTask("hf:someone/tiny-vit", top=2).model.labels) == 3
    with pytest.raises(Exception, match="the hub cannot be reached from here"):
        ClassifyTask("hf:someone/not-cached")
