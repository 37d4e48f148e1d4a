"""Attributions for a classifier's predictions: SHAP (Deep, Gradient) and Grad-CAM.

References:
    - Lundberg & Lee (2017), "A unified approach to interpreting model predictions", NeurIPS:
      DeepExplainer (DeepLIFT's rescale rule averaged over a background set) and
      GradientExplainer (expected gradients). Through the ``shap`` library.
    - Shrikumar, Greenside & Kundaje (2017), "Learning important features through propagating
      activation differences" (DeepLIFT), ICML.
    - Selvaraju et al. (2017), "Grad-CAM: visual explanations from deep networks via
      gradient-based localization", ICCV. Through ``captum`` (``LayerGradCam``).

DeepExplainer's values are additive: for each image x and class k they sum to
f_k(x) - E[f_k(background)]. :func:`explain` checks that on every image and refuses results
that do not add up within 1e-3 (scaled by the output's size), which is what happens when the
network hides operations from SHAP's hooks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._extras import require
from ..io import provenance

METHODS = ("deep", "gradient", "gradcam")
ADDITIVITY_TOLERANCE = 1e-3


@dataclass
class Explanation:
    """What :func:`explain` returns: attributions with the images, outputs and provenance.

    Attributes:
        values: (N, H, W, C, T) float32, attribution of each pixel and channel to each explained
            class (T of them; all classes by default). Grad-CAM maps have C = 1.
        targets: (N, T) int, the class index explained in each slot of ``values``.
        pixels: (N, H, W, C) float32 in [0, 1], the images as the model saw them (unnormalised).
        outputs: (N, K) the explained output f(x): class probabilities or logits (``output``).
        probabilities: (N, K) class probabilities.
        base_values: (K,) E[f(background)], or None for Grad-CAM (no background).
        labels: class names, K of them.
        method: "deep", "gradient" or "gradcam".
        output: "probability" or "logit".
        sources: one id per image (file path, or "mnist:test:1234").
        y_true: (N,) true class indices where known, else None.
        provenance: model, weights sha256, method, background sampling, versions, time.
    """

    values: np.ndarray
    targets: np.ndarray
    pixels: np.ndarray
    outputs: np.ndarray
    probabilities: np.ndarray
    base_values: np.ndarray | None
    labels: tuple[str, ...]
    method: str
    output: str
    sources: list[str]
    y_true: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.values)

    def for_class(self, k: int | None = None) -> np.ndarray:
        """(N, H, W) attribution of each image to class ``k`` (default: its top class), summed over channels."""
        want = self.probabilities.argmax(1) if k is None else np.full(len(self), k)
        out = np.zeros(self.values.shape[:3], np.float32)
        for i, c in enumerate(want):
            slot = np.flatnonzero(self.targets[i] == c)
            if not len(slot):
                raise ValueError(f"class {self.labels[c]!r} was not explained for image {i}; use targets='all'")
            out[i] = self.values[i, :, :, :, slot[0]].sum(-1)
        return out

    def to_table(self, ink_threshold: float = 0.5):
        """One row per image: top class, margin, additivity, share of attribution on strokes. See :mod:`.summary`."""
        from .summary import to_table

        return to_table(self, ink_threshold=ink_threshold)

    def plot(self, path, title: str | None = None):
        """The lecture's figure: each image, then its attribution map for every explained class (PNG)."""
        from .figures import image_plot

        return image_plot(self, path, title=title)

    def overlays(self, directory, names: Sequence[str] | None = None):
        """One PNG per image: the image with its top class's attribution laid over it."""
        from .figures import overlays

        return overlays(self, directory, names=names)


def explain(
    model,
    images,
    *,
    background=None,
    method: str = "deep",
    output: str = "probability",
    targets: str = "all",
    n_background: int = 100,
    seed: int = 0,
    y_true=None,
    sources: Sequence[str] | None = None,
    nsamples: int = 200,
    batch_size: int = 16,
    progress: bool = False,
    background_name: str = "given",
) -> Explanation:
    """Explain a classifier's predictions on ``images``.

    Args:
        model: an imagevars classifier, a registered model name (``"mnist-cnn"``) or a saved
            model folder.
        images: (N, H, W), (N, H, W, C) or (N, C, H, W) pixels, uint8 or float scaled as the
            model takes them; of the model's input size (resize first, e.g. with
            :func:`imagevars.io.decode.fit_array`).
        background: images whose average output is the baseline (SHAP methods). If it holds
            more than ``n_background`` images, ``n_background`` are drawn with ``seed``. None
            uses the model's training data when its card names it (MNIST for the digit models).
        method: ``"deep"`` (DeepExplainer), ``"gradient"`` (GradientExplainer) or ``"gradcam"``.
        output: explain class ``"probability"`` (the softmax, as the lecture does) or ``"logit"``.
        targets: ``"all"`` classes or only the ``"top"`` (predicted) class of each image.
        n_background: how many background images to draw at most.
        seed: seed of the background draw (and of GradientExplainer's sampling).
        y_true: true class indices, to mark right and wrong predictions in tables and figures.
        sources: an id per image for the table (default ``image:0``, ``image:1``, ...).
        nsamples: GradientExplainer's samples per image.
        batch_size: images explained at a time (memory grows with batch x background).
        progress: show a progress bar.
        background_name: what the background is, for the provenance (e.g. "mnist training split").

    Example:
        >>> import imagevars
        >>> (train_X, _), (test_X, test_Y) = imagevars.datasets.mnist.load_data()  # doctest: +SKIP
        >>> e = imagevars.explain("mnist-cnn", test_X[:5], background=train_X[:1000])  # doctest: +SKIP
        >>> e.values.shape  # doctest: +SKIP
        (5, 28, 28, 1, 10)
    """
    # 1. Check inputs
    clock = provenance.begin()
    clf, x, y_true, sources, net = _inputs(model, images, method, output, targets, y_true, sources)
    bg, bg_record = None, None
    if method != "gradcam":
        bg, bg_record = _background(clf, background, n_background, seed, background_name)

    # 2. Outputs
    outputs, probs, base = _outputs(clf, net, x, bg)
    k = outputs.shape[1]
    tgt = np.tile(np.arange(k), (len(x), 1)) if targets == "all" else probs.argmax(1)[:, None]

    # 3. Attributions, a batch at a time
    values = _attributions(method, net, bg, x, tgt, batch_size, nsamples, seed, progress)  # (N, H, W, C, T)

    # 4. Additivity (SHAP's defining property; exact for DeepExplainer)
    if method == "deep":
        _check_additivity(values, outputs, tgt, base)

    # 5. Pixels as the user sees them, and provenance
    import torch

    mean = torch.tensor(clf.card.mean).view(1, -1, 1, 1)
    std = torch.tensor(clf.card.std).view(1, -1, 1, 1)
    pixels = (x * std + mean).permute(0, 2, 3, 1).numpy().astype(np.float32)
    return Explanation(
        values=values, targets=tgt, pixels=pixels, outputs=outputs, probabilities=probs, base_values=base,
        labels=tuple(clf.labels), method=method, output=output, sources=sources, y_true=y_true,
        provenance=_provenance(clock, clf, method, output, targets, nsamples, seed, bg_record),
    )


def _inputs(model, images, method: str, output: str, targets: str, y_true, sources):
    """Checked inputs: the classifier, its input tensor, true labels, ids and the network to explain."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if targets not in ("all", "top"):
        raise ValueError(f"targets must be 'all' or 'top', got {targets!r}")
    require("torch", "explaining a model")
    from ..train.arrays import to_inputs, to_labels
    from ..train.loading import open_classifier
    from .network import check_differentiable, explainable

    clf = open_classifier(model)
    x = to_inputs(images, clf.card, "images")
    if len(x) == 0:
        raise ValueError("no images to explain")
    if y_true is not None:
        y_true = to_labels(y_true, len(clf.labels), "y_true").numpy()
        if y_true.ndim != 1 or len(y_true) != len(x):
            raise ValueError(f"y_true must hold one class index per image ({len(x)}), got shape {y_true.shape}")
    sources = list(sources) if sources is not None else [f"image:{i}" for i in range(len(x))]
    if len(sources) != len(x):
        raise ValueError(f"{len(sources)} sources for {len(x)} images")
    net = explainable(clf.module, output)
    check_differentiable(net, x)
    return clf, x, y_true, sources, net


def _attributions(method: str, net, bg, x, tgt: np.ndarray, batch_size: int, nsamples: int, seed: int,
                  progress: bool) -> np.ndarray:
    """Attribution maps of the target classes, ``batch_size`` images at a time: (N, H, W, C, T) float32."""
    from tqdm.auto import tqdm

    from .network import last_conv

    explainer = _explainer(method, net, bg, last_conv)
    parts = []
    for i in tqdm(range(0, len(x), batch_size), desc=f"Explaining ({method})", unit="batch", disable=not progress):
        parts.append(explainer(x[i : i + batch_size], tgt[i : i + batch_size], nsamples, seed))
    return np.concatenate(parts).astype(np.float32)


def _outputs(clf, net, x, bg):
    """The explained outputs, the class probabilities and the background's mean output, 256 images at a time."""
    import torch

    from .network import explainable

    with torch.no_grad():
        outputs = torch.cat([net(x[i : i + 256]) for i in range(0, len(x), 256)]).numpy()
        logits = explainable(clf.module, "logit")
        probs = torch.cat([torch.softmax(logits(x[i : i + 256]), 1) for i in range(0, len(x), 256)]).numpy()
        base = net(bg).mean(0).numpy() if bg is not None else None
    return outputs, probs, base


def _check_additivity(values: np.ndarray, outputs: np.ndarray, tgt: np.ndarray, base: np.ndarray) -> None:
    """DeepExplainer's values must add up to f(x) - E[f(background)], image by image and class by class."""
    sums = values.sum((1, 2, 3))  # (N, T)
    want = np.take_along_axis(outputs, tgt, 1) - base[tgt]
    gap = np.abs(sums - want)
    allowed = ADDITIVITY_TOLERANCE * np.maximum(1.0, np.abs(outputs).max())
    if gap.max() > allowed:
        raise ValueError(
            f"SHAP values do not add up to the output (largest gap {gap.max():.3g} > {allowed:.3g}): the model "
            "computes something DeepExplainer's hooks cannot see (functional calls such as F.relu, or layers "
            "reused in forward). Build the network from nn.Module layers, or use method='gradient'"
        )


def _background(clf, background, n: int, seed: int, name: str):
    """The background tensor, drawn with ``seed``, and how it was drawn (for provenance)."""
    import torch

    from ..train.arrays import to_inputs

    if n < 1:
        raise ValueError(f"n_background must be at least 1, got {n}")
    source = name
    if background is None:
        from ..train.session import default_data, load_training_data

        data = default_data(clf)
        if data is None:
            raise ValueError(
                f"method needs a background set and the card of {clf.card.name!r} names no training data: pass "
                "background= (a sample of the training images; the lecture used 25)"
            )
        background = load_training_data(data, seed=int(clf.card.training.get("seed", 0)),
                                        size=clf.card.input_size[0], progress=False)["train"][0]
        source = f"{data} (training split)"
    bg = to_inputs(background, clf.card, "background")
    if len(bg) == 0:
        raise ValueError("the background set is empty: pass at least one image (the lecture used 25 random "
                         "training images; 100 or more give steadier values)")
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(bg), n, replace=False)) if len(bg) > n else np.arange(len(bg))
    bg = bg[torch.from_numpy(idx)].contiguous()
    record = {"source": source, "pool": int(len(background)), "n": int(len(idx)), "seed": seed,
              "indices_sha256": hashlib.sha256(idx.astype(np.int64).tobytes()).hexdigest(),
              "sha256": hashlib.sha256(bg.numpy().tobytes()).hexdigest()}
    if len(idx) <= 1000:
        record["indices"] = idx.tolist()
    return bg, record


def _explainer(method: str, net, bg, last_conv):
    """A function (x batch, targets (n, T), nsamples, seed) -> (n, H, W, C, T) attributions."""
    import torch

    if method in ("deep", "gradient"):
        shap = require("shap", "SHAP explanations")
        ex = shap.DeepExplainer(net, bg) if method == "deep" else shap.GradientExplainer(net, bg)

        def run(xb, tb, nsamples, seed):
            kw = {"check_additivity": False} if method == "deep" else {"nsamples": nsamples, "rseed": seed}
            if tb.shape[1] == 1:  # the top class only
                vals, _ = ex.shap_values(xb, ranked_outputs=1, output_rank_order="max", **kw)
            else:
                vals = ex.shap_values(xb, **kw)
            vals = np.asarray(vals)  # (n, C, H, W, T)
            return vals.transpose(0, 2, 3, 1, 4)

        return run

    require("captum", "Grad-CAM")
    from captum.attr import LayerAttribution, LayerGradCam

    gc = LayerGradCam(net, last_conv(net))

    def run(xb, tb, nsamples, seed):
        maps = []
        for t in range(tb.shape[1]):
            cam = gc.attribute(xb, target=torch.from_numpy(tb[:, t]), relu_attributions=True)  # (n, 1, h, w)
            maps.append(LayerAttribution.interpolate(cam, tuple(xb.shape[2:]), "bilinear").detach())
        return torch.stack(maps, -1).permute(0, 2, 3, 1, 4).numpy()  # (n, H, W, 1, T)

    return run


def parameters_sha256(module) -> str:
    """sha256 of the parameters actually in ``module`` (names, shapes, float32 bytes, in order).

    The card's weights hash says which file was meant; this one says what was explained, so an
    untrained or fine-tuned model cannot pass for the bundled one.
    """
    h = hashlib.sha256()
    for name, t in module.state_dict().items():
        h.update(f"{name}:{tuple(t.shape)}".encode())
        h.update(t.detach().to("cpu").contiguous().numpy().tobytes())
    return h.hexdigest()


def _provenance(clock, clf, method, output, targets, nsamples, seed, bg_record) -> dict[str, Any]:
    import importlib.metadata as md

    import torch

    lib = "captum" if method == "gradcam" else "shap"
    params = {"method": method, "output": output, "targets": targets, "seed": seed}
    if method == "gradient":
        params["nsamples"] = nsamples
    card = clf.card
    task = {"name": "explain", "params": params,
            "model": {"name": card.name, "architecture": card.architecture,
                      "weights_sha256": card.weights.sha256 if card.weights else None,
                      "parameters_sha256": parameters_sha256(clf.module)}}
    return provenance.record(clock, [task], libraries={lib: md.version(lib), "torch": torch.__version__},
                             background=bg_record)
