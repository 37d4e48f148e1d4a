"""``detect``: COCO objects in photos, as the variables researchers use. The codebook.

The default model is the bundled CenterNet (``centernet-mbv3-coco``, offline; see its card);
hub detectors (``rtdetr-r18``, ``dfine-s``, any ``hf:<owner>/<name>``) give the same columns.
With ``classes`` (``--classes "logo, price tag"``), an open-vocabulary detector (``owlv2-base``,
``grounding-dino-tiny``; :mod:`imagevars.models.open_vocab`) finds the classes named in words, and
the columns below are those classes' (``person_*`` only if ``person`` is one of them); its input is
letterboxed (aspect kept, grey below or to the right) and a box wholly in the grey is dropped.
Each image is decoded with EXIF orientation applied, converted to RGB (transparency on white),
no smaller than its shorter side covers the input (JPEGs by libjpeg's DCT scaling, the cheap way),
and resized to the detector's square input (512 x 512 for CenterNet, 640 x 640 for RT-DETR and
D-FINE) without keeping its aspect ratio, as these models were trained and run. Every variable
below is computed from the model's detections (CenterNet: its 100 highest-scoring) after
class-wise non-maximum suppression (``nms``, IoU 0.5: overlapping boxes of one class are one
object, as the source package and the TF Object Detection API post-process them). Boxes are in
pixels of the original image, after orientation.

Columns (``detect_`` + name), k = 1 .. ``top``, c = each of the 80 COCO classes, or of the classes named
(spaces and punctuation as ``_``):

=================  =========================================================================
n_objects          number of detections with score >= ``threshold``
top{k}_label       label of the k-th highest-scoring detection (the lecture's top_k_objects)
top{k}_score       its score
person_max         highest score of any person detection (0 if none)
person_any         probability of at least one person, 1 - prod(1 - p_i) over person
                   detections with p_i >= ``floor`` (the lecture's formula; it treats the
                   detections as independent, so read it as an index, not a calibrated
                   probability)
count_{c}          number of detections of class c with score >= ``threshold``
area_{c}           share of the image area covered by the union of those detections' boxes,
                   in [0, 1] (computed on the pixel grid of the resized input)
=================  =========================================================================

Long format (``long=True``, ``imagevars run detect --long``): one row per detection at or
above ``threshold``, keyed by ``source``, ``frame``, ``time_s`` and ``object`` (0 = highest
score); an image with no detection keeps one row with ``object`` null.

=================  =========================================================================
label, class_id    COCO label and its 0-based class id
score              detection score
x1, y1, x2, y2     box corners in pixels of the original image (after EXIF orientation),
                   x to the right and y down from the top-left corner
=================  =========================================================================

Defaults: ``top`` 3, ``threshold`` 0.3, ``floor`` 0.05, ``nms`` 0.5. All parameters are recorded in the
provenance of every table.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..io.decode import Cover
from ..models.labels import column_name
from .base import Option, Task, comma_list, copies_per_worker

SIDE = 512
NMS_IOU = 0.5  # duplicates of one object (CenterNet's neighbouring peaks) are merged above this overlap


def prepare(decoded, side: int = SIDE, pad: bool = False) -> tuple[np.ndarray, int, int]:
    """Worker side: the image resized to side x side RGB uint8, and the original width and height. With
    ``pad``, letterboxed: the longer side scaled to ``side``, grey (128) below or to the right."""
    from PIL import Image

    img = Image.fromarray(decoded.rgb)
    if pad:
        scale = side / max(img.size)
        canvas = Image.new("RGB", (side, side), (128, 128, 128))
        canvas.paste(
            img.resize(
                (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BILINEAR
            ),
            (0, 0),
        )
        return np.asarray(canvas, np.uint8), decoded.width, decoded.height
    if img.size != (side, side):
        img = img.resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(img, np.uint8), decoded.width, decoded.height


def to_grid(det: np.ndarray, width: int, height: int, side: int, pad: bool) -> tuple[np.ndarray, float, float, float]:
    """(detections clipped to the image's part of the input grid, those wholly outside it dropped; x and y
    scale to original pixels; the share of the grid the image covers): the inverse of :func:`prepare`.

    Example:
        >>> d, sx, sy, share = to_grid(np.array([[0, 0, 512, 512, .9, 0]]), 1000, 500, 512, pad=True)
        >>> d[0, :4].tolist(), sx == sy, share
        ([0.0, 0.0, 512.0, 256.0], True, 0.5)
    """
    if not pad:
        return det, width / side, height / side, 1.0
    scale = max(width, height) / side
    det = det.copy()
    det[:, [0, 2]] = np.clip(det[:, [0, 2]], 0, width / scale)
    det[:, [1, 3]] = np.clip(det[:, [1, 3]], 0, height / scale)
    det = det[(det[:, 2] > det[:, 0]) & (det[:, 3] > det[:, 1])]  # a box wholly in the grey padding is no object
    return det, scale, scale, (width / scale) * (height / scale) / side**2


def person_any(scores: np.ndarray, floor: float) -> float:
    """1 - prod(1 - p) over the scores at or above ``floor``.

    Example:
        >>> round(person_any(np.array([0.5, 0.5, 0.01]), 0.05), 4)
        0.75
    """
    p = scores[scores >= floor].astype(np.float64)
    return float(1.0 - np.prod(1.0 - p)) if len(p) else 0.0


def union_area(boxes: np.ndarray, side: int = SIDE) -> float:
    """Share of a side x side grid covered by the union of boxes (x1, y1, x2, y2 in grid units).

    Example:
        >>> union_area(np.array([[0, 0, 256, 512], [128, 0, 384, 512]]), 512)
        0.75
    """
    if not len(boxes):
        return 0.0
    mask = np.zeros((side, side), bool)
    b = np.clip(np.rint(boxes), 0, side).astype(int)
    for x1, y1, x2, y2 in b:
        mask[y1:y2, x1:x2] = True
    return float(mask.mean())


def nms(det: np.ndarray, iou: float | None) -> np.ndarray:
    """Class-wise greedy non-maximum suppression: of boxes of one class overlapping by more than
    ``iou`` (intersection over union), only the highest-scoring is kept. Sorted by score.

    Example:
        >>> d = np.array([[0, 0, 10, 10, .9, 0], [1, 1, 10, 10, .8, 0], [1, 1, 10, 10, .7, 5]])
        >>> nms(d, 0.5)[:, 4].tolist()
        [0.9, 0.7]
    """
    det = det[np.argsort(-det[:, 4], kind="stable")]
    if iou is None or iou >= 1.0 or len(det) < 2:
        return det
    x1, y1, x2, y2 = det[:, 0], det[:, 1], det[:, 2], det[:, 3]
    area = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    keep = np.ones(len(det), bool)
    for i in range(len(det)):
        if not keep[i]:
            continue
        rest = np.flatnonzero(keep & (det[:, 5] == det[i, 5]) & (np.arange(len(det)) > i))
        if not len(rest):
            continue
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        keep[rest[overlap > iou]] = False
    return det[keep]


def objects(
    det: np.ndarray,
    width: int,
    height: int,
    labels: tuple[str, ...],
    threshold: float,
    side: int = SIDE,
    pad: bool = False,
) -> list[dict[str, Any]]:
    """Long format: one dict per detection at or above ``threshold``, highest score first, with its
    box in pixels of the original image (after orientation): object, label, class_id, score, x1, y1, x2, y2.
    """
    det, sx, sy, _ = to_grid(det[np.argsort(-det[:, 4], kind="stable")], width, height, side, pad)
    out = []
    for i, (x1, y1, x2, y2, score, cls) in enumerate(det[det[:, 4] >= threshold]):
        out.append(
            {
                "object": i,
                "label": labels[int(cls)],
                "class_id": int(cls),
                "score": float(score),
                "x1": float(np.clip(x1 * sx, 0, width)),
                "y1": float(np.clip(y1 * sy, 0, height)),
                "x2": float(np.clip(x2 * sx, 0, width)),
                "y2": float(np.clip(y2 * sy, 0, height)),
            }
        )
    return out


def detect_file(path: str, model: str | None = None, threshold: float = 0.3, classes=None) -> list[dict[str, Any]]:
    """The objects in one image file (long format, see :func:`objects`).

    Example:
        >>> detect_file("photo.jpg")[0]["label"]  # doctest: +SKIP
        'person'
    """
    from ..io.decode import decode
    from ..io.sources import read_source

    task = DetectTask(model=model, threshold=threshold, classes=classes)
    found, _ = task.look(decode(read_source(path), path, max_side=task.max_side))
    return [o for o in found if o["score"] >= threshold]


class DetectTask(Task):
    """COCO object detection variables per image (see the module docstring: the codebook).

    Args:
        model: a registered detector (default the bundled ``centernet-mbv3-coco``; with ``classes``,
            ``owlv2-base``).
        classes: names of the classes to find, in words (``"logo, price tag"`` or a list): open-vocabulary
            detection (:mod:`imagevars.models.open_vocab`); the columns are those below for these classes,
            and ``person_*`` only if ``person`` is one of them.
        top: how many top detections to report as label/score columns.
        threshold: score at or above which a detection is counted (counts, areas, n_objects).
        floor: score at or above which a person detection enters ``person_any``.
        threads: onnxruntime threads (default ``IMAGEVARS_THREADS`` or the cores available).
        long: one row per detected object instead of one row per image.
        nms: boxes of one class overlapping more than this (IoU) are one object: the
            highest-scoring is kept (None or 1.0: keep all).

    Example:
        >>> import imagevars
        >>> imagevars.run(["detect"], "PHOTOS/").to_pandas()["detect_person_any"]  # doctest: +SKIP
    """

    name = "detect"
    # decoded no smaller than the model's square input covers (JPEGs by DCT scaling), then resized to it
    max_side = Cover(SIDE)
    options = (
        Option("--long", "long", None, "detect: one row per object (box, label, score)"),
        Option(
            "--model",
            "model",
            str,
            "detect: a registered detector (default: the bundled CenterNet; rtdetr-r18, "
            "dfine-s ... from the hub; with --classes owlv2-base or grounding-dino-tiny), hf:<owner>/<name>, "
            "or a folder saved with save_pretrained",
        ),
        Option(
            "--classes",
            "classes",
            comma_list,
            "detect: find these classes named in words, comma-separated "
            '("logo, price tag"): open-vocabulary detection, OWLv2 unless --model says otherwise',
        ),
        Option("--threshold", "threshold", float, "detect: score at or above which objects count (default 0.3)"),
    )

    def __init__(
        self,
        model: str | None = None,
        top: int = 3,
        threshold: float = 0.3,
        floor: float = 0.05,
        threads: int | None = None,
        long: bool = False,
        nms: float | None = NMS_IOU,
        classes=None,
    ):
        from ..models.hf_detect import open_detector

        if top < 0 or top > 100:
            raise ValueError(f"top must be between 0 and 100, got {top}")
        for name, v in (("threshold", threshold), ("floor", floor)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a score between 0 and 1, got {v}")
        self.model_name = model or ("owlv2-base" if classes else "centernet-mbv3-coco")
        self.top, self.threshold, self.floor, self.long, self.nms = top, threshold, floor, long, nms
        self.model = open_detector(self.model_name, threads=threads, classes=classes)
        self.per_worker = copies_per_worker(self.model, threads)
        self.labels = tuple(self.model.labels)
        self.classes = list(self.labels) if classes else None
        if len({column_name(c) for c in self.labels}) != len(self.labels):
            raise ValueError(f"{self.model_name}: two classes give the same column name; rename one")
        self.person = self.labels.index("person") if "person" in self.labels else None
        if self.person is None and not classes:
            raise ValueError(
                f"{self.model_name}: its classes have no 'person'; the detect task expects a COCO detector"
            )
        self.pad = bool(getattr(self.model, "pad", False))
        self.side = int(getattr(self.model, "side", SIDE))
        # a square input, the photo stretched: decode to cover it; letterboxed: the longer side is all it needs
        self.max_side = self.side if self.pad else Cover(self.side)

    def params(self) -> dict[str, Any]:
        params = {
            "model": self.model_name,
            "top": self.top,
            "threshold": self.threshold,
            "floor": self.floor,
            "nms": self.nms,
            **({"classes": self.classes} if self.classes else {}),
        }
        return {**params, "long": True} if self.long else params

    def provenance(self) -> dict[str, Any]:
        card = self.model.card
        out = {
            "name": self.name,
            "params": self.params(),
            "model": card.name,
            "weights_sha256": (card.weights.sha256 or None) if card.weights else None,
        }
        if hasattr(self.model, "provenance"):  # hub models: repo, requested revision, commit loaded, weights
            out["hub"] = self.model.provenance()
            out["weights_sha256"] = out["weights_sha256"] or out["hub"].get("weights_sha256")
        return out

    def preprocessor(self):
        return functools.partial(prepare, side=self.side, pad=self.pad)

    def fields(self) -> list:
        import pyarrow as pa

        if self.long:
            f = [("label", pa.string()), ("class_id", pa.int64()), ("score", pa.float64())]
            return [pa.field(f"detect_{n}", t) for n, t in f + [(c, pa.float64()) for c in ("x1", "y1", "x2", "y2")]]
        f = [("n_objects", pa.int64())]
        for k in range(1, self.top + 1):
            f += [(f"top{k}_label", pa.string()), (f"top{k}_score", pa.float64())]
        if self.person is not None:
            f += [("person_max", pa.float64()), ("person_any", pa.float64())]
        f += [(f"count_{column_name(c)}", pa.int64()) for c in self.labels]
        f += [(f"area_{column_name(c)}", pa.float64()) for c in self.labels]
        return [pa.field(f"detect_{n}", t) for n, t in f]

    def detections(self, decoded) -> tuple[np.ndarray, int, int]:
        """One decoded image through the model, as the pipeline runs it: its detections after
        :func:`nms` in ``side``-px units, and the original width and height."""
        img, w, h = prepare(decoded, self.side, self.pad)
        return nms(self.model.predict(img[None])[0], self.nms), w, h

    def look(self, decoded) -> tuple[list[dict[str, Any]], float]:
        """One decoded image: all its objects (long format, best first, boxes in its pixels) and
        P(at least one person), as ``imagevars detect`` prints them."""
        det, w, h = self.detections(decoded)
        anyone = person_any(det[det[:, 5] == self.person, 4], self.floor) if self.person is not None else None
        return objects(det, w, h, self.labels, 0.0, self.side, self.pad), anyone

    def __call__(self, batch: list[tuple[np.ndarray, int, int]]) -> dict[str, list]:
        dets = [nms(d, self.nms) for d in self.model.predict(np.stack([b[0] for b in batch]))] if batch else []
        if self.long:  # a list of objects per image; the runner makes them rows
            found = [
                objects(d, w, h, self.labels, self.threshold, self.side, self.pad) for d, (_, w, h) in zip(dets, batch)
            ]
            return {f.name: [[o[f.name[len("detect_") :]] for o in objs] for objs in found] for f in self.fields()}
        rows = []
        for d, (_, w, h) in zip(dets, batch):
            grid, _, _, share = to_grid(d, w, h, self.side, self.pad)
            rows.append(self.variables(grid, share))
        return {f.name: [r[f.name] for r in rows] for f in self.fields()}

    def variables(self, det: np.ndarray, share: float = 1.0) -> dict[str, Any]:
        """The per-image columns from one (k, 6) detection array in ``side``-px units (after :func:`nms`);
        ``share``: the part of the input grid the image covers (letterboxed input, :func:`to_grid`)."""
        order = np.argsort(-det[:, 4], kind="stable")
        det = det[order]
        scores, classes = det[:, 4], det[:, 5].astype(int)
        kept = scores >= self.threshold
        out: dict[str, Any] = {"detect_n_objects": int(kept.sum())}
        for k in range(self.top):
            out[f"detect_top{k + 1}_label"] = self.labels[classes[k]] if k < len(det) else None
            out[f"detect_top{k + 1}_score"] = float(scores[k]) if k < len(det) else None
        if self.person is not None:
            is_person = classes == self.person
            out["detect_person_max"] = float(scores[is_person].max()) if is_person.any() else 0.0
            out["detect_person_any"] = person_any(scores[is_person], self.floor)
        counts = np.bincount(classes[kept], minlength=len(self.labels))
        for c, label in enumerate(self.labels):
            name = column_name(label)
            out[f"detect_count_{name}"] = int(counts[c])
            area = union_area(det[kept & (classes == c), :4], self.side) / share if counts[c] else 0.0
            out[f"detect_area_{name}"] = min(1.0, area)
        return out
