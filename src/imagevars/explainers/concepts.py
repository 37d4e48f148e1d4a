"""Which concepts does the network use? Automated concept-based explanations (ACE; Ghorbani, Wexler, Zou & Kim
2019, NeurIPS, "Towards automatic concept-based explanations").

The paper's method, its defaults stated (each a parameter of :func:`concepts`):

1. **Segments.** Each image of the class is cut into superpixels by SLIC (scikit-image) at three
   resolutions (15, 50 and 80 segments, compactness 20, sigma 1), the image shrunk so its longer
   side is at most twice the network's input (64 to 512 px). A segment smaller than 1% of
   its image, or overlapping an already kept segment of the same image by IoU > 0.5, is dropped.
   Each kept segment is cut out on the network's mean colour (what the network sees as zero
   input), cropped to its bounding box and resized to the network's input.
2. **Concepts.** The segments are embedded by the network at one layer (``layer="auto"``: the
   last convolutional map, activations averaged over positions) and clustered by k-means (25
   clusters). A cluster is a concept when its segments come from at least ``min_images``
   distinct images (default: a fifth of the class images, at least 3) and no image gives more
   than half of them: a concept recurs across the class, it is not one picture's parts (the
   paper's popularity rules, in this form). Members are ordered by distance to the centre; the
   ``max_members`` nearest (40) stand for it.
3. **Importance.** TCAV (:mod:`imagevars.explainers.tcav`) for each concept against ``runs`` (20)
   random sets of segments (``random_images``' segments if given, otherwise segments drawn from all
   of the class images'), against the scores of random-versus-random CAVs, with a two-sided
   Welch t-test; a concept is significant when p < ``alpha`` (0.05) divided by the number of
   concepts tested (Bonferroni).

Everything is seeded (``seed``) and recorded in :attr:`ConceptResult.provenance`.

Example:
    >>> import imagevars
    >>> result = imagevars.explain.concepts("efficientnet-lite0", "VANS/", target="police van")  # doctest: +SKIP
    >>> result.table  # doctest: +SKIP
    >>> result.plot("concepts.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RESOLUTIONS = (15, 50, 80)


@dataclass
class Segment:
    """One superpixel of one image: its patch as the network sees it, and where it lies in its image."""

    image: int  # index of the source image
    patch: np.ndarray  # (side, side, 3) uint8, on the network's mean colour
    box: tuple[int, int, int, int]  # y0, y1, x0, x1 in the source image
    mask: np.ndarray  # bool, the segment within its box


def segment_image(rgb: np.ndarray, index: int, side: int, fill: np.ndarray, resolutions: Sequence[int] = RESOLUTIONS,
                  compactness: float = 20.0, min_share: float = 0.01) -> list[Segment]:
    """The image's superpixels at each resolution, duplicates and specks dropped (module docstring, step 1).

    Example:
        >>> img = np.zeros((60, 60, 3), np.uint8); img[:, 30:] = 255
        >>> segs = segment_image(img, 0, 32, np.array([127, 127, 127], np.uint8), resolutions=(4,))
        >>> len(segs), segs[0].patch.shape  # four quadrants, each black or white
        (4, (32, 32, 3))
        >>> sorted(int(s.patch.mean()) for s in segs)
        [0, 0, 255, 255]
    """
    import cv2
    from skimage.segmentation import slic

    h, w = rgb.shape[:2]
    out: list[Segment] = []
    for n in resolutions:
        labels = slic(rgb, n_segments=n, compactness=compactness, sigma=1, start_label=0, channel_axis=-1)
        for label in range(labels.max() + 1):
            mask = labels == label
            ys, xs = np.nonzero(mask)
            if len(ys) < min_share * h * w:
                continue
            box = (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
            if any(_iou(box, mask, other) > 0.5 for other in out):
                continue
            y0, y1, x0, x1 = box
            crop = np.where(mask[y0:y1, x0:x1, None], rgb[y0:y1, x0:x1], fill)
            patch = cv2.resize(np.ascontiguousarray(crop, np.uint8), (side, side), interpolation=cv2.INTER_LINEAR)
            out.append(Segment(index, patch, box, mask[y0:y1, x0:x1].copy()))
    return out


def segment_images(net, rgbs: Sequence[np.ndarray], resolutions: Sequence[int] = RESOLUTIONS) -> list[Segment]:
    """Every image's segments, cut out for ``net`` (its input side, on its mean colour), image by image."""
    return [s for i, rgb in enumerate(rgbs) for s in segment_image(rgb, i, net.side, net.fill, resolutions)]


def _iou(box: tuple[int, int, int, int], mask: np.ndarray, other: Segment) -> float:
    """IoU of a full-image mask (with its box) and a kept segment, computed only where their boxes meet."""
    y0, y1 = max(box[0], other.box[0]), min(box[1], other.box[1])
    x0, x1 = max(box[2], other.box[2]), min(box[3], other.box[3])
    if y0 >= y1 or x0 >= x1:
        return 0.0
    oy, ox = other.box[0], other.box[2]
    inter = int((mask[y0:y1, x0:x1] & other.mask[y0 - oy:y1 - oy, x0 - ox:x1 - ox]).sum())
    area = int(mask[box[0]:box[1], box[2]:box[3]].sum())
    return inter / (area + int(other.mask.sum()) - inter)


def layer_activations(net, layer: str, images: Sequence[np.ndarray], pooled: bool = True, batch: int = 64) -> np.ndarray:
    """Activations of ``layer`` for RGB images: (N, C) averaged over positions, or (N, C*H*W) with ``pooled=False``."""
    import torch

    module = dict(net.module.named_modules())[layer]
    seen: list = []
    shape = (lambda o: o.mean(dim=(2, 3)) if o.ndim == 4 else o.flatten(1)) if pooled else (lambda o: o.flatten(1))

    def keep(m, i, o):
        seen.append(shape(o).detach().float())
        raise _Reached  # the layers after this one are not needed

    hook = module.register_forward_hook(keep)
    try:
        with torch.no_grad():
            for s in range(0, len(images), batch):
                try:
                    net.module(net.prepare(images[s:s + batch]))
                except _Reached:
                    pass
    finally:
        hook.remove()
    return torch.cat(seen).numpy() if seen else np.zeros((0, 0), np.float32)


class _Reached(Exception):
    """Raised by the forward hook once the layer's output is kept: the rest of the network need not run."""


def layer_gradients(net, layer: str, images: Sequence[np.ndarray], target: int, batch: int = 32) -> np.ndarray:
    """(N, C*H*W): the class logit's gradient with respect to ``layer``'s output, per image (flattened)."""
    import torch

    module = dict(net.module.named_modules())[layer]
    out: list = []
    for s in range(0, len(images), batch):
        held: list = []

        def keep(m, i, o, held=held):
            if o.requires_grad:
                o.retain_grad()
            held.append(o)

        hook = module.register_forward_hook(keep)
        try:
            x = net.prepare(images[s:s + batch]).requires_grad_(True)
            logits = net.module(x)
            logits[:, target].sum().backward()
        finally:
            hook.remove()
        grad = held[-1].grad
        if grad is None:
            raise ValueError(f"layer {layer!r} gives no gradient for the class logit; choose a layer the logit depends on")
        out.append(grad.flatten(1).detach().float())
    return torch.cat(out).numpy()


def find_concepts(acts: np.ndarray, image_of: np.ndarray, n_images: int, n_clusters: int, min_images: int,
                  max_members: int, seed: int) -> list[np.ndarray]:
    """k-means clusters that pass the popularity rule (module docstring, step 2): member indices, nearest first."""
    from sklearn.cluster import KMeans

    k = min(n_clusters, len(acts))
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(acts)
    dist = np.linalg.norm(acts - km.cluster_centers_[km.labels_], axis=1)
    found = []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        counts = np.bincount(image_of[members], minlength=n_images)
        if (counts > 0).sum() < min_images or counts.max() > 0.5 * len(members):
            continue
        found.append(members[np.argsort(dist[members], kind="stable")][:max_members])
    return found


@dataclass
class ConceptResult:
    """What :func:`concepts` found: ``table`` (one row per concept), the concepts' segments, and provenance."""

    table: Any  # pandas DataFrame
    concepts: list[list[Segment]]
    images: list[np.ndarray]
    sources: list[str]
    provenance: dict[str, Any]
    errors: list[tuple[str, str]] = field(default_factory=list)

    def plot(self, path: str | os.PathLike, top: int = 5, per_concept: int = 6) -> Path:
        """The lecture's figure: for each important concept, its nearest segments above the images they came from."""
        from .concept_figure import concept_figure

        return concept_figure(self, path, top, per_concept)

    def name(self, clip: str, vocabulary: Sequence[str] | None = None, top: int = 3) -> list[list[str]]:
        """Suggested names for the concepts from a CLIP model (:mod:`imagevars.explainers.concept_names`);
        adds the ``suggested_names`` column."""
        from .concept_names import suggest_names

        return suggest_names(self, clip, vocabulary, top)

    def save(self, folder: str | os.PathLike) -> dict[str, Path]:
        """``concepts.csv``, ``concepts.png`` and ``provenance.json`` in ``folder``."""
        import json

        from ..io.files import atomic_write

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = {"table": atomic_write(out / "concepts.csv", lambda t: self.table.to_csv(t, index=False)),
                 "figure": self.plot(out / "concepts.png")}
        text = json.dumps(self.provenance, indent=2, default=str) + "\n"
        files["provenance"] = atomic_write(out / "provenance.json", lambda t: Path(t).write_text(text))
        return files


def concepts(model, images, target, layer: str = "auto", random_images=None, resolutions: Sequence[int] = RESOLUTIONS,
             n_clusters: int = 25, min_images: int | None = None, max_members: int = 40, runs: int = 20,
             alpha: float = 0.05, max_random: int = 500, seed: int = 0) -> ConceptResult:
    """ACE: the concepts ``model`` uses for class ``target`` in ``images``, each with its TCAV score (module docstring).

    Args:
        model: ``efficientnet-lite0``, ``mnist-cnn``, a folder from ``imagevars train`` or ``learn --finetune``,
            an imagevars Classifier, or a :class:`~imagevars.explainers.concept_net.ConceptNet`.
        images: images of the class: a folder, a list of files, or a list of RGB arrays (at least 10).
        target: the class, by name or index.
        layer: the layer to read, as ``named_modules()`` names it, or ``"auto"``.
        random_images: images whose segments are the random counterexamples (default: the class images' own).
    """
    import pandas as pd

    from .concept_net import concept_network
    from .tcav import concept_test, random_scores

    clock = {"start": time.time()}
    net = concept_network(model)
    target_i, layer = net.target_index(target), net.resolve_layer(layer)
    rgbs, sources, errors = load_images(images, _working_side(net))
    if len(rgbs) < 10:
        raise ValueError(f"ACE needs at least 10 images of the class to tell concepts that recur across images from "
                         f"one picture's parts; got {len(rgbs)} readable image(s)" + _why(errors))
    min_images = min_images or max(3, math.ceil(len(rgbs) / 5))
    segs = segment_images(net, rgbs, resolutions)
    clock["segment"] = time.time()
    acts = layer_activations(net, layer, [s.patch for s in segs])
    clock["embed"] = time.time()
    image_of = np.array([s.image for s in segs])
    found = find_concepts(acts, image_of, len(rgbs), n_clusters, min_images, max_members, seed)
    clock["cluster"] = time.time()
    pool = _random_pool(net, layer, random_images, [s.patch for s in segs], resolutions, max_random, seed, errors)
    grads = layer_gradients(net, layer, rgbs, target_i)
    chance = random_scores(pool, grads, min(max_members, max((len(m) for m in found), default=1), len(pool) // 2),
                           runs, seed)
    rows = []
    for c, members in enumerate(found):
        flat = layer_activations(net, layer, [segs[i].patch for i in members], pooled=False)
        result = concept_test(flat, pool, grads, chance, runs, seed + c)
        rows.append({"concept": c, "n_segments": len(members), "n_images": len(np.unique(image_of[members])),
                     "tcav": result.score, "tcav_sd": float(np.std(result.scores)), "p_value": result.p_value})
    clock["tcav"] = time.time()
    table = pd.DataFrame(rows, columns=["concept", "n_segments", "n_images", "tcav", "tcav_sd", "p_value"])
    table["significant"] = table["p_value"] < alpha / max(1, len(table))
    order = table.sort_values(["significant", "tcav"], ascending=False, kind="stable").index
    table = table.loc[order].reset_index(drop=True)
    table["concept"] = range(len(table))
    steps = ["start", "segment", "embed", "cluster", "tcav"]
    provenance = {"method": "ACE + TCAV", "model": net.name, "target": net.labels[target_i], "layer": layer,
                  "images": len(rgbs), "segments": len(segs), "resolutions": list(resolutions), "n_clusters": n_clusters,
                  "min_images": min_images, "max_members": max_members, "runs": runs, "alpha": alpha, "seed": seed,
                  "max_random": max_random,
                  "random": "random_images" if random_images is not None else "the class images' segments",
                  "chance_tcav_mean": float(np.mean(chance)), "seconds": round(clock["tcav"] - clock["start"], 2),
                  "seconds_by_step": {b: round(clock[b] - clock[a], 2) for a, b in zip(steps, steps[1:])}}
    return ConceptResult(table, [[segs[i] for i in found[j]] for j in order], rgbs, sources, provenance, errors)


def _random_pool(net, layer: str, random_images, own_patches: list, resolutions, max_random: int, seed: int,
                 errors: list) -> np.ndarray:
    """Flattened activations of up to ``max_random`` random segments: of ``random_images``, or ``own_patches``."""
    patches = own_patches
    if random_images is not None:
        rgbs, _, more = load_images(random_images, _working_side(net))
        errors += more
        patches = [s.patch for s in segment_images(net, rgbs, resolutions)]
    if len(patches) < 10:
        raise ValueError(f"only {len(patches)} random segments: give random_images with more (or larger) pictures")
    picked = np.random.default_rng(seed).permutation(len(patches))[:max_random]
    return layer_activations(net, layer, [patches[i] for i in picked], pooled=False)


def concept_importance(model, concept_images, images, target, layer: str = "auto", random_images=None, runs: int = 20,
                       max_random: int = 500, resolutions: Sequence[int] = RESOLUTIONS, seed: int = 0) -> dict[str, Any]:
    """TCAV for a concept you name by examples (TCAV's own use): does the class logit grow along it?

    ``concept_images`` are examples of the concept (cut-outs, as ACE's segments are); ``images`` the class's
    images; the random counterexamples are segments of ``random_images`` (default: of the class images).
    Returns ``{"tcav", "tcav_sd", "p_value", "chance"}`` (the mean TCAV score of random CAVs).
    """
    from .concept_net import concept_network
    from .tcav import concept_test, random_scores

    net = concept_network(model)
    target_i, layer = net.target_index(target), net.resolve_layer(layer)
    examples, _, _ = load_images(concept_images, _working_side(net))
    rgbs, _, _ = load_images(images, _working_side(net))
    if len(examples) < 5 or not rgbs:
        raise ValueError(f"TCAV needs at least 5 examples of the concept and some class images; got {len(examples)} "
                         f"and {len(rgbs)}")
    own = [s.patch for s in segment_images(net, rgbs, resolutions)]
    pool = _random_pool(net, layer, random_images, own, resolutions, max_random, seed, [])
    concept = layer_activations(net, layer, examples, pooled=False)
    grads = layer_gradients(net, layer, rgbs, target_i)
    chance = random_scores(pool, grads, min(len(concept), len(pool) // 2), runs, seed)
    result = concept_test(concept, pool, grads, chance, runs, seed)
    return {"tcav": result.score, "tcav_sd": float(np.std(result.scores)), "p_value": result.p_value,
            "chance": float(np.mean(chance)), "layer": layer}


def _working_side(net) -> int:
    """Images are segmented with their longer side at most twice the network's input (64 to 512 px)."""
    return int(min(512, max(64, 2 * net.side)))


def load_images(images, max_side: int = 512) -> tuple[list[np.ndarray], list[str], list[tuple[str, str]]]:
    """(RGB arrays, sources, errors) from a folder, a list of files, or arrays; images under 16 px are refused."""
    from ..io.decode import IMAGE_EXTENSIONS, DecodeError, decode, read_file, shrink

    if isinstance(images, (str, os.PathLike)) and Path(images).is_dir():
        images = sorted(str(p) for p in Path(images).rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
    elif isinstance(images, (str, os.PathLike)):
        images = [os.fspath(images)]
    rgbs, sources, errors = [], [], []
    for i, item in enumerate(images):
        name = item if isinstance(item, (str, os.PathLike)) else f"image:{i}"
        try:
            rgb = decode(read_file(item), str(item), max_side=max_side).rgb if isinstance(item, (str, os.PathLike)) \
                else shrink(np.asarray(item), max_side)
            if rgb.ndim == 2:
                rgb = np.stack([rgb] * 3, -1)
            if min(rgb.shape[:2]) < 16:
                raise DecodeError(f"{name}: {rgb.shape[1]}x{rgb.shape[0]} is too small to segment (at least 16x16)")
            rgbs.append(np.ascontiguousarray(rgb[..., :3], np.uint8))
            sources.append(str(name))
        except DecodeError as exc:
            errors.append((str(name), str(exc)))
    return rgbs, sources, errors


def _why(errors: list[tuple[str, str]]) -> str:
    return f" ({len(errors)} could not be used, e.g. {errors[0][1]})" if errors else ""
