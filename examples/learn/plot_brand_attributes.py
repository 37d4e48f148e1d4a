"""Brand attributes from brands' own pictures, cross-validated by brand (after Liu, Dzyabura & Mizik 2020).

Run: python examples/learn/plot_brand_attributes.py      (Fashion-MNIST: Debian's dataset-fashion-mnist,
                                                          $IMAGEVARS_DATA, or downloaded once)

The study's design: images that brands post, coded for perceived attributes (rugged, glamorous,
healthy, fun; an image can be several at once), a classifier learned from the codes, and its
accuracy checked on brands it never saw, because a model that recognises a brand's house style
would look accurate on that brand's other images and say nothing about new ones.

What is simulated, plainly: the brands and the coding. 40 "brands" each post 12 product photos
from Fashion-MNIST in its own colour filter, each brand favouring a few item types (its house
style); the "coder" marks
an image rugged (trousers, coats, ankle boots), glamorous (dresses, bags, sandals) and fun
(T-shirts, sneakers, sandals) from the item type, and, as coders who know a brand do, calls
everything a playful brand (a third of them) posts fun. The learning, the grouped
cross-validation and the report are what a study runs on its own codes.

What to read in the output: for rugged and glamorous, which follow what is in the picture, the
two estimates agree. For fun, part of the label is the brand, which a model can only learn by
recognising the brand's house style: folds that mix brands reward that and look better than
the model will do on a brand it has not seen. The grouped figure is the one to report.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from imagevars.datasets import fashion_mnist
from imagevars.learn import learn

ATTRIBUTES = {
    "rugged": {"Trouser", "Coat", "Ankle boot"},
    "glamorous": {"Dress", "Bag", "Sandal"},
    "fun": {"T-shirt/top", "Sneaker", "Sandal"},
}

(x, y), _ = fashion_mnist.load_data()
rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp())
rows = []
for brand in range(40):
    style = rng.dirichlet(np.full(10, 0.3))  # each brand posts mostly a few item types
    playful = rng.random() < 1 / 3  # its coders call all of its posts fun
    tint = rng.uniform(0.4, 1.0, 3)  # its house style: every post in its own colour filter
    for k in range(12):
        item = rng.choice(10, p=style)
        i = rng.choice(np.flatnonzero(y == item))
        path = folder / f"brand{brand:02d}_{k}.png"
        Image.fromarray((x[i][:, :, None] * tint).astype(np.uint8)).save(path)
        name = fashion_mnist.LABELS[item]
        rows.append(
            {
                "path": str(path),
                "brand": f"brand{brand:02d}",
                "attributes": ";".join(
                    a for a, items in ATTRIBUTES.items() if name in items or (a == "fun" and playful)
                ),
            }
        )
pd.DataFrame(rows).to_csv(folder / "codes.csv", index=False)

# One yes/no measure per attribute; folds keep each brand's images together
grouped = learn(folder / "codes.csv", [], folder / "by-brand", multilabel=["attributes"], group="brand")
naive = learn(folder / "codes.csv", [], folder / "naive", multilabel=["attributes"])
for target, r in grouped.results.items():
    g, n = r["metrics"]["auc"], naive.results[target]["metrics"]["auc"]
    print(
        f"{target:22s} AUC on unseen brands {g['mean']:.3f} [{g['low']:.3f}, {g['high']:.3f}]   "
        f"folds that mix brands {n['mean']:.3f}"
    )
print("Report:", folder / "by-brand" / "report.md")
print("Apply to new posts: imagevars run classify POSTS/ --model", folder / "by-brand")
