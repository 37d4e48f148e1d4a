"""Where the models run: the CPU unless IMAGEVARS_DEVICE names a GPU, and every input follows the model there.

No GPU here or in CI: the plumbing is checked on PyTorch's "meta" device, whose tensors have shapes but no
data. A model on "meta" fed an input left on the CPU fails with a device mismatch; fed inputs that all
followed it, it runs its forward pass and fails only where numbers are read back (or not at all).
"""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data as data

from imagevars.models.device import DeviceError, onnx_providers, torch_device

pytest.importorskip("transformers")

MISMATCH = ("same device", "Expected all tensors", "expected device", "device type")


def test_the_cpu_by_default_and_a_clear_error_for_a_gpu_this_machine_lacks(monkeypatch):
    import torch

    monkeypatch.delenv("IMAGEVARS_DEVICE", raising=False)
    assert torch_device() == "cpu" and onnx_providers() == ["CPUExecutionProvider"]
    monkeypatch.setenv("IMAGEVARS_DEVICE", "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match=r"IMAGEVARS_DEVICE=cuda, but PyTorch sees no GPU.*unset IMAGEVARS_DEVICE"):
        torch_device()
    monkeypatch.setenv("IMAGEVARS_DEVICE", "gpu0")
    with pytest.raises(DeviceError, match="not a device: use cpu, cuda or cuda:<index>"):
        torch_device()


def test_onnx_models_stay_on_the_cpu_with_a_warning_without_onnxruntime_gpu(monkeypatch):
    import onnxruntime as ort

    monkeypatch.setenv("IMAGEVARS_DEVICE", "cuda:0")
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.warns(UserWarning, match="no CUDA provider.*onnxruntime-gpu"):
        assert onnx_providers() == ["CPUExecutionProvider"]
    monkeypatch.setattr(ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert onnx_providers() == ["CUDAExecutionProvider", "CPUExecutionProvider"]


class Misplaced(BaseException):
    """An input left behind on the CPU (a BaseException, so that no fallback path can swallow it)."""


def _check(call) -> None:
    """Run ``call`` on a model moved to "meta": it may fail for want of data, never on a device mismatch."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - which failure it is, is the point
        text = str(exc)
        assert not any(m in text for m in MISMATCH), f"an input did not follow the model: {text[:300]}"
        assert "meta" in text.lower() or isinstance(exc, NotImplementedError), text[:300]


def _watch_inputs(module) -> None:
    """Make ``module``'s forward raise :class:`Misplaced` when a tensor argument is not on its device."""
    import functools

    import torch

    forward = module.forward

    @functools.wraps(forward)  # generate() reads forward's signature
    def checked(*args, **kwargs):
        where = next(module.parameters()).device
        for name, v in [*enumerate(args), *kwargs.items()]:
            if isinstance(v, torch.Tensor) and v.device != where:
                raise Misplaced(f"{name} on {v.device}, the model on {where}")
        return forward(*args, **kwargs)

    module.forward = checked


def test_a_hub_model_loads_onto_the_device_imagevars_device_names(tmp_path, monkeypatch):
    from hubmodels import tiny_vit  # tests/helpers
    from imagevars.models.hf_classify import HubClassifier

    folder = tiny_vit(tmp_path / "vit-cls", tmp_path / "hub", classes=3)
    monkeypatch.setenv("IMAGEVARS_DEVICE", "meta")
    assert next(HubClassifier(str(folder)).model.parameters()).device.type == "meta"


def test_every_input_follows_a_hub_model_to_its_device(tmp_path):
    from hubmodels import tiny_vit  # tests/helpers
    from imagevars.models.clip import ClipModel, save_random_clip
    from imagevars.models.hf_backbone import HubBackbone
    from imagevars.models.hf_classify import HubClassifier
    from imagevars.models.open_vocab import OpenVocabDetector, save_random_owlv2

    small = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2)
    classifier = HubClassifier(str(tiny_vit(tmp_path / "vit-cls", tmp_path / "hub", classes=3)))
    backbone = HubBackbone(str(tiny_vit(tmp_path / "vit", tmp_path / "hub", repo="someone/tiny-backbone")))
    clip = ClipModel(
        str(
            save_random_clip(
                tmp_path / "clip",
                text=dict(small, max_position_embeddings=24),
                vision=dict(small, patch_size=8),
                projection_dim=8,
                image_side=32,
            )
        )
    )
    owl = OpenVocabDetector(str(save_random_owlv2(tmp_path / "owl")), "cat, cup")
    images = np.stack([np.asarray(data.chelsea()[:64, :64])] * 2)
    for m in (classifier, backbone, clip, owl):
        m.model.to("meta")
    _check(lambda: classifier.predict(images))
    _check(lambda: backbone._pool(images))
    _check(lambda: owl.predict(images))
    _check(lambda: clip.embed_images(list(images)))
    _check(lambda: clip.embed_texts(["a cat"]))


def test_every_input_follows_a_vision_language_model_to_its_device(tmp_path):
    from imagevars.models.vlm import VisionLanguageModel, save_random_vlm

    vlm = VisionLanguageModel(str(save_random_vlm(tmp_path / "vlm")))
    vlm.model.to("meta")
    _watch_inputs(vlm.model)
    rgb = np.asarray(data.chelsea()[:64, :64])
    prompt = vlm.prompt("Is there a cat?")
    _check(lambda: vlm.score(rgb, prompt, ["yes", "no"]))
    _check(lambda: vlm._score_cached(rgb, [prompt, vlm.prompt("Indoors?")], [["yes", "no"]] * 2))
    _check(lambda: vlm.generate(rgb, prompt, 3))
    # the cache's continuations, which a model that fails on meta above never reaches
    from transformers import DynamicCache

    ids = vlm.encode(rgb, prompt)["input_ids"][0]
    _check(lambda: vlm._continue(DynamicCache(), ids[:4], 0))
    _check(lambda: vlm._answers_on(DynamicCache(), 0, ids[:4], prompt, ["yes", "no"]))
