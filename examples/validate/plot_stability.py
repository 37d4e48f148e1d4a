"""Which of your variables would move if the photos were shifted by a pixel or re-saved? A test-retest check.

Run: python examples/validate/plot_stability.py      (a few seconds on 2 cores; offline)

A table is made from scikit-image's sample photos (``quality`` and the bundled detector), then
``imagevars.validate.stability`` measures each photo again three ways: as the run decoded it,
shifted right by one pixel, and re-saved as a quality-95 JPEG. Nobody would see either change.
The figure shows, for the counts and labels, the share of photos each change left unchanged, and
the ``re-run`` rows check that the table's stored values come back. A study runs the same call on
its own table (``imagevars validate stability vars.parquet -o stability/``).
"""

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import skimage.data as data  # noqa: E402
from PIL import Image  # noqa: E402

import imagevars  # noqa: E402
from imagevars import validate  # noqa: E402

folder = Path(tempfile.mkdtemp())
photos = []
for name in ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "horse", "cat", "hubble_deep_field"):
    img = getattr(data, name)()
    photos.append(folder / f"{name}.jpg")
    Image.fromarray(img).convert("RGB").save(photos[-1], quality=90)
imagevars.run(["quality", "detect"], photos, folder / "vars.parquet", progress=False)

table = validate.stability(folder / "vars.parquet", n=200, out=folder / "stability", progress=False)
print(
    f"{table.attrs['images']} photos measured again; not reproduced as stored:",
    list(table[(table["change"] == "re-run") & (table["unchanged"] < 1)]["variable"]) or "none",
)

shown = table[
    table["kind"].isin(["count", "label"])
    & (table["change"] != "re-run")
    & ~table["variable"].str.startswith("detect_count_")
]  # 80 counts: in stability.csv
wide = shown.pivot(index="variable", columns="change", values="unchanged").sort_values("1-px shift")
print(wide.round(2).to_string())
numbers = table[(table["kind"] == "number") & (table["change"] == "1-px shift")].sort_values("r")
print("lowest test-retest r after a 1-px shift:")
print(numbers[["variable", "r", "mean_abs_change", "sd"]].head(5).round(4).to_string(index=False))

ax = wide.plot.barh(figsize=(7, 4))
ax.set_xlabel("share of photos unchanged")
ax.set_xlim(0, 1)
ax.legend(title=None, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
plt.tight_layout()
plt.savefig(folder / "stability.png", dpi=120)
print("figure:", folder / "stability.png", "; every variable:", folder / "stability" / "stability.csv")
