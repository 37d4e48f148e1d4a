"""Composition, faces and text: the variables of listing-photo and ad studies, offline, drawn on the photos.

Each photo is measured with `composition`, `faces` and `text`; the figure draws the thirds lines,
the visual centre the composition attributes start from, and the faces found (boxes only: imagevars
counts and locates faces, it never says whose they are).

Run: python examples/measure/plot_composition_faces_text.py [OUT.png]
"""

import os
import sys
import tempfile

import numpy as np
import skimage.data as data
from PIL import Image

import imagevars
from imagevars._extras import pyplot

out = sys.argv[1] if len(sys.argv) > 1 else "composition_faces_text.png"
folder = tempfile.mkdtemp()
for name in ("astronaut", "coffee", "chelsea", "page"):
    Image.fromarray(getattr(data, name)()).save(os.path.join(folder, f"{name}.png"))

table = imagevars.run(["composition", "faces", "text"], folder).to_pandas()
print(
    table[
        [
            "source",
            "composition_rule_of_thirds",
            "composition_balance_color",
            "composition_dof_value",
            "faces_count",
            "faces_largest_share",
            "text_present",
            "text_words",
        ]
    ].to_string(index=False)
)

detector = imagevars.create_model("blazeface-back")
plt = pyplot()
fig, axes = plt.subplots(1, len(table), figsize=(4 * len(table), 4))
for ax, (_, row) in zip(axes, table.iterrows()):
    rgb = np.asarray(Image.open(row["source"]).convert("RGB"))
    h, w = rgb.shape[:2]
    ax.imshow(rgb, cmap="gray")
    for f in (1 / 3, 2 / 3):
        ax.axvline(w * f, color="white", lw=0.8, alpha=0.7)
        ax.axhline(h * f, color="white", lw=0.8, alpha=0.7)
    ax.plot(
        row["composition_salient_x"] * w,
        row["composition_salient_y"] * h,
        "o",
        color="gold",
        ms=10,
        markeredgecolor="black",
    )
    boxes, _, _ = detector.detect(rgb)
    for x1, y1, x2, y2 in boxes:
        ax.add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="lime", lw=2))
    ax.set_title(
        f"{os.path.basename(row['source'])}\nthirds {row['composition_rule_of_thirds']:.2f}, "
        f"faces {row['faces_count']}, words {row['text_words']}",
        fontsize=9,
    )
    ax.axis("off")
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"figure: {out}")
