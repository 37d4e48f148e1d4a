"""``text``: how much text an image carries, read offline with PP-OCR. The codebook.

Text is found and read by PP-OCRv4 (Baidu's PaddleOCR: a DB text detector, a direction
classifier for upside-down lines and an SVTR-LCNet recogniser trained on Chinese and English)
as ONNX models shipped inside the ``rapidocr-onnxruntime`` wheel (Apache-2.0), so nothing is
downloaded and the models cannot drift: the provenance records the package version and the
sha256 of the three model files. The image is decoded with EXIF orientation applied and shrunk
so its longer side is at most ``size`` pixels (default 1280; text smaller than about 8 pixels
high at that size is not read). A line counts when its recognition confidence is at least
``min_score`` (default 0.5, rapidocr's own).

Columns (``text_`` + name):

============ ===================================================================================
present      true if at least one line of text was read
lines        number of lines (text boxes) read
chars        characters read, spaces excluded
words        words read: runs of characters between spaces (a line of Chinese is one word)
area_share   share of the image covered by the boxes of the lines read (their union), [0, 1]
confidence   mean recognition confidence of the lines read, [min_score, 1]; null without text
content      the text itself, lines top to bottom joined by newlines; only with ``content=True``
             (``--text-content``), because text in images can name people
============ ===================================================================================

Measured on scikit-image's ``page()`` (a scanned page of five lines): all five lines read, with
the words of the page; tilted by 15 degrees: all five; turned upside down: two; turned 90 degrees
(vertical lines): one. Text set sideways is mostly missed; the counts are then too low, not
wrong in kind. Photos without text (``astronaut``, ``coffee``) read nothing.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Option, Task, working_rgb

PACKAGE = "rapidocr_onnxruntime"


def prepare(decoded, size: int = 1280) -> np.ndarray:
    """The image at its working size, as BGR for OpenCV-based OCR (runs in the decode workers)."""
    return np.ascontiguousarray(working_rgb(decoded, size)[..., ::-1])


def summarise(lines: list, shape: tuple[int, int], min_score: float, content: bool) -> dict[str, Any]:
    """The text columns from OCR lines ``[(box 4 x 2, text, score), ...]`` on an image of ``shape`` (h, w).

    Example:
        >>> box = [[0, 0], [50, 0], [50, 10], [0, 10]]
        >>> r = summarise([(box, "Sale 50% off", 0.9), (box, "x", 0.2)], (100, 100), 0.5, False)
        >>> r["present"], r["lines"], r["chars"], r["words"], round(r["area_share"], 3), r["confidence"]
        (True, 1, 10, 3, 0.056, 0.9)
    """
    import cv2

    kept = [
        (np.asarray(b, np.float32), str(t), float(s)) for b, t, s in lines if float(s) >= min_score and str(t).strip()
    ]
    mask = np.zeros(shape, np.uint8)
    for box, _, _ in kept:
        cv2.fillPoly(mask, [np.round(box).astype(np.int32)], 1)
    out = {
        "present": bool(kept),
        "lines": len(kept),
        "chars": sum(len("".join(t.split())) for _, t, _ in kept),
        "words": sum(len(t.split()) for _, t, _ in kept),
        "area_share": float(mask.mean()) if mask.size else 0.0,
        "confidence": float(np.mean([s for _, _, s in kept])) if kept else None,
    }
    if content:
        out["content"] = "\n".join(t for _, t, _ in kept)
    return out


def model_files() -> dict[str, str]:
    """The PP-OCR model files the installed rapidocr-onnxruntime ships: {name: sha256}."""
    import importlib.util
    import os

    from ..io.files import sha256_file

    root = os.path.join(os.path.dirname(importlib.util.find_spec(PACKAGE).origin), "models")
    return {f: sha256_file(os.path.join(root, f)) for f in sorted(os.listdir(root)) if f.endswith(".onnx")}


class TextTask(Task):
    """Text in images: whether there is any, how much, how sure (module docstring), optionally what it says.

    Args:
        size: longest side, in pixels, of the image the text is read from (default 1280).
        min_score: recognition confidence at or above which a line counts (default 0.5).
        content: also write the text itself (``text_content``; default off).

    Example:
        >>> import imagevars
        >>> imagevars.run(["text"], "ADS/").to_pandas()[["text_present", "text_words"]]  # doctest: +SKIP
    """

    name = "text"
    # RapidOCR stays in this process on all its threads: single-thread copies in the workers ran at 0.85x
    # (bench/vars_throughput.py --tasks text --in-process)
    per_worker = False
    options = (
        Option(
            "--text-content", "content", None, "text: also write the text read (off by default: it can name people)"
        ),
        Option(
            "--text-min-score", "min_score", float, "text: recognition confidence at which a line counts (default 0.5)"
        ),
    )

    def __init__(self, size: int = 1280, min_score: float = 0.5, content: bool = False):
        from .._env import threads
        from .._extras import require

        require(PACKAGE, "the text task")
        if size < 64:
            raise ValueError(f"text size must be at least 64 pixels, got {size}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError(f"text min_score must be between 0 and 1, got {min_score}")
        self.size = self.max_side = size
        self.min_score, self.content = float(min_score), bool(content)
        from rapidocr_onnxruntime import RapidOCR

        n = threads()
        self.engine = RapidOCR(
            det_intra_op_num_threads=n,
            cls_intra_op_num_threads=n,
            rec_intra_op_num_threads=n,
            det_inter_op_num_threads=1,
            cls_inter_op_num_threads=1,
            rec_inter_op_num_threads=1,
            text_score=0.0,
        )  # every line comes back; min_score decides here, recorded

    def params(self) -> dict[str, Any]:
        return {"size": self.size, "min_score": self.min_score, "content": self.content}

    def provenance(self) -> dict[str, Any]:
        from importlib.metadata import version

        files = model_files()
        return {
            "name": self.name,
            "params": self.params(),
            "model": f"PP-OCRv4 (rapidocr-onnxruntime {version('rapidocr-onnxruntime')})",
            "weights_sha256": ",".join(f"{k}:{v}" for k, v in files.items()),
        }

    def preprocessor(self):
        return functools.partial(prepare, size=self.size)

    def _names(self) -> list[str]:
        return ["present", "lines", "chars", "words", "area_share", "confidence"] + (
            ["content"] if self.content else []
        )

    def fields(self) -> list:
        import pyarrow as pa

        types = {
            "present": pa.bool_(),
            "lines": pa.int64(),
            "chars": pa.int64(),
            "words": pa.int64(),
            "area_share": pa.float64(),
            "confidence": pa.float64(),
            "content": pa.string(),
        }
        return [pa.field(f"text_{n}", types[n]) for n in self._names()]

    def read(self, bgr: np.ndarray) -> dict[str, Any]:
        """The text columns of one BGR image."""
        if min(bgr.shape[:2]) < 2:  # nothing to read in a line of pixels (PP-OCR's resizing needs two)
            return summarise([], bgr.shape[:2], self.min_score, self.content)
        lines, _ = self.engine(bgr)
        return summarise(lines or [], bgr.shape[:2], self.min_score, self.content)

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        rows = [self.read(b) for b in batch]
        return {f"text_{n}": [r[n] for r in rows] for n in self._names()}
