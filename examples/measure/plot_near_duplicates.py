"""Near-duplicates: reposts and stock photos found by perceptual hashes, grouped exactly.

Makes a small folder of photos with edited copies (re-saved at low JPEG quality, resized,
brightened) among unrelated photos, hashes them, and groups the near-copies; the figure shows
each group side by side.

Run: python examples/measure/plot_near_duplicates.py [OUT.png]
"""

import os
import sys
import tempfile

import numpy as np
import skimage.data as data
from PIL import Image, ImageEnhance

import imagevars
from imagevars._extras import pyplot
from imagevars.duplicates import find_duplicates

out = sys.argv[1] if len(sys.argv) > 1 else "near_duplicates.png"
folder = tempfile.mkdtemp()
for name in ("astronaut", "coffee", "chelsea", "rocket", "camera"):
    img = Image.fromarray(getattr(data, name)()).convert("RGB")
    img.save(os.path.join(folder, f"{name}.jpg"), quality=92)
    if name in ("astronaut", "coffee"):  # a repost: smaller, recompressed, a little brighter
        repost = ImageEnhance.Brightness(img.resize((img.width // 2, img.height // 2))).enhance(1.15)
        repost.save(os.path.join(folder, f"{name}_repost.jpg"), quality=35)

table = imagevars.run(["hash"], folder).to_pandas()
groups, pairs = find_duplicates(table, max_distance=6)
print(
    groups[["source", "dup_group", "dup_group_size", "dup_nearest_distance", "dup_uniqueness"]].to_string(index=False)
)
print(pairs.to_string(index=False))

plt = pyplot()
multi = groups[groups["dup_group_size"] > 1].groupby("dup_group")["source"].apply(list)
fig, axes = plt.subplots(len(multi), 2, figsize=(6, 3 * len(multi)), squeeze=False)
for row, sources in zip(axes, multi):
    for ax, src in zip(row, sources):
        ax.imshow(np.asarray(Image.open(src).convert("RGB")))
        ax.set_title(os.path.basename(src), fontsize=9)
        ax.axis("off")
fig.suptitle("near-copies (pHash distance <= 6)")
fig.tight_layout()
fig.savefig(out, dpi=100)
print(f"figure: {out}")
