"""``faces``: whether faces are shown, how many, how large and where. Never whose. The codebook.

imagevars counts and locates faces; it never identifies people, matches faces to each other or to
names, or infers anything about who a person is (no recognition, no face embeddings, no age,
gender or ethnicity). The models below can only say "a face is here".

Faces are found by the bundled detector :mod:`imagevars.models.blazeface`: MediaPipe's BlazeFace
(back-camera model) proposes face boxes on the image padded to a square at 256 x 256; each box
scoring at least ``min_score`` (default 0.5) is cut out, enlarged 1.4 times, and checked by
MediaPipe's FaceMesh face-presence output, which must give it at least ``min_check`` (default
0.5). Both thresholds were chosen on real photos: on scikit-image's ``lfw_subset()`` (100 face
crops, 100 non-face crops, each enlarged to 100 px and centred on a 400 px grey frame) 96 faces
were found and no non-face; on its photos the astronaut and the cameraman have one face each
and the cat (BlazeFace alone: 0.78), the coffee cup, the rocket and the horse none
(``tests/tasks/test_faces.py``). Small faces are missed: a face whose box is an eighth of the
image's longer side was found 91% of the time, a twelfth 51%, a sixteenth 9% (crowds, distant
people). For those, ``tiles=3`` (``--face-tiles 3``) also looks in a 3 x 3 grid of overlapping
tiles, where small faces are larger to the detector (ten detector runs instead of one); because the tiles
propose more boxes, the face check's threshold then defaults to 0.9 instead of 0.5. Measured the
same way: 94-95% of the faces found from a quarter down to a sixteenth of the longer side, 50% at
a twenty-fourth, still no non-face crop and no face on the cat or any other face-free photo of
scikit-image (13 photos). The image is decoded with EXIF orientation applied and shrunk so its
longer side is at most ``size`` pixels (default 640).

Columns (``faces_`` + name); positions are fractions of the width (x, from the left) and height
(y, from the top):

================ ==================================================================================
count            faces found
largest_share    area of the largest face's box / the image's area, 0 without a face, [0, 1]
total_share      share of the image covered by face boxes (their union), [0, 1]
largest_x        centre of the largest face, fraction of the width; null without a face
largest_y        centre of the largest face, fraction of the height; null without a face
largest_thirds   rule of thirds for the largest face's centre: 1 - distance to the nearest
                 thirds intersection / (sqrt(2) * 2/3), as ``composition_rule_of_thirds``; null
                 without a face, [0, 1]
largest_centred  1 - distance of the largest face's centre from the image centre / (sqrt(2) / 2);
                 null without a face, [0, 1]
top_check        the highest face-check probability among the boxes the detector proposed (0 if
                 it proposed none): a continuous "is there a face" score for other thresholds
================ ==================================================================================
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .base import Option, Task, copies_per_worker, working_rgb
from .composition import placement

COLUMNS = (
    "count",
    "largest_share",
    "total_share",
    "largest_x",
    "largest_y",
    "largest_thirds",
    "largest_centred",
    "top_check",
)


def summarise(boxes: np.ndarray, shape: tuple[int, int], top_check: float) -> dict[str, Any]:
    """The face columns from kept boxes (k, 4: x1, y1, x2, y2 in pixels) on an image of ``shape`` (h, w).

    Example:
        >>> r = summarise(np.array([[0, 0, 50, 50], [25, 25, 50, 50]], np.float32), (100, 100), 0.99)
        >>> r["count"], r["largest_share"], r["total_share"], r["largest_x"], r["largest_thirds"] is not None
        (2, 0.25, 0.25, 0.25, True)
    """
    h, w = shape
    out: dict[str, Any] = {
        "count": int(len(boxes)),
        "largest_share": 0.0,
        "total_share": 0.0,
        "largest_x": None,
        "largest_y": None,
        "largest_thirds": None,
        "largest_centred": None,
        "top_check": float(top_check),
    }
    if not len(boxes) or not h or not w:
        return out
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    big = boxes[int(np.argmax(areas))]
    mask = np.zeros((h, w), bool)
    for x1, y1, x2, y2 in np.round(boxes).astype(int):
        mask[max(y1, 0) : y2, max(x1, 0) : x2] = True
    centre = np.array([(big[0] + big[2]) / 2 / w, (big[1] + big[3]) / 2 / h])
    where = placement(centre)
    out.update(
        largest_share=float(areas.max() / (h * w)),
        total_share=float(mask.mean()),
        largest_x=float(centre[0]),
        largest_y=float(centre[1]),
        largest_thirds=where["rule_of_thirds"],
        largest_centred=where["balance_intensity"],
    )
    return out


class FacesTask(Task):
    """Faces shown: count, size, position (module docstring). No identity, ever.

    Args:
        size: longest side, in pixels, of the image faces are looked for in (default 640).
        min_score: BlazeFace's score at or above which a box is a candidate (default 0.5).
        min_check: the face check's probability at or above which a candidate is a face (default 0.5; 0.9 with
            tiles).
        tiles: also look in a ``tiles`` x ``tiles`` grid of overlapping tiles, for small faces (default 1: off).

    Example:
        >>> import imagevars
        >>> imagevars.run(["faces"], "PORTRAITS/").to_pandas()["faces_count"]  # doctest: +SKIP
    """

    name = "faces"
    options = (
        Option("--face-min-score", "min_score", float, "faces: detector score at which a box is a candidate (0.5)"),
        Option(
            "--face-min-check",
            "min_check",
            float,
            "faces: face-check probability at which it counts (0.5; 0.9 with tiles)",
        ),
        Option("--face-tiles", "tiles", int, "faces: also look in an N x N grid of tiles, for small faces (1: off)"),
    )

    def __init__(self, size: int = 640, min_score: float = 0.5, min_check: float | None = None, tiles: int = 1):
        from ..models.registry import create_model

        if size < 64:
            raise ValueError(f"faces size must be at least 64 pixels, got {size}")
        if not 1 <= tiles <= 6:
            raise ValueError(f"faces tiles must be between 1 and 6, got {tiles}")
        min_check = (0.5 if tiles == 1 else 0.9) if min_check is None else min_check
        for name, v in (("min_score", min_score), ("min_check", min_check)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"faces {name} must be between 0 and 1, got {v}")
        self.size = self.max_side = size
        self.min_score, self.min_check, self.tiles = float(min_score), float(min_check), int(tiles)
        self.model = create_model("blazeface-back")
        self.per_worker = copies_per_worker(self.model, None)

    def params(self) -> dict[str, Any]:
        return {"size": self.size, "min_score": self.min_score, "min_check": self.min_check, "tiles": self.tiles}

    def provenance(self) -> dict[str, Any]:
        from ..models.blazeface import FACE_CHECK

        card = self.model.card
        return {
            "name": self.name,
            "params": self.params(),
            "model": f"{card.name} + {FACE_CHECK.name}",
            "weights_sha256": f"{card.weights.sha256},{FACE_CHECK.weights.sha256}",
        }

    def preprocessor(self):
        return functools.partial(working_rgb, size=self.size)

    def fields(self) -> list:
        import pyarrow as pa

        return [pa.field(f"faces_{n}", pa.int64() if n == "count" else pa.float64()) for n in COLUMNS]

    def look(self, rgb: np.ndarray) -> dict[str, Any]:
        """The face columns of one RGB image."""
        if min(rgb.shape[:2]) < 2:
            return summarise(np.zeros((0, 4), np.float32), rgb.shape[:2], 0.0)
        boxes, _, checks = self.model.detect(rgb, self.min_score, 0.0, tiles=self.tiles)
        top = float(checks.max()) if len(checks) else 0.0
        return summarise(boxes[checks >= self.min_check], rgb.shape[:2], top)

    def __call__(self, batch: list[np.ndarray]) -> dict[str, list]:
        rows = [self.look(rgb) for rgb in batch]
        return {f"faces_{n}": [r[n] for r in rows] for n in COLUMNS}
