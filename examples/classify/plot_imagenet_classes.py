"""What each photo shows (ImageNet classes, offline) and which photos look alike (features).

Run: python examples/classify/plot_imagenet_classes.py [FOLDER]   (default: scikit-image's photos)

Writes imagenet_classes.png: each photo with its three most probable classes, and prints for
each photo its nearest neighbour by cosine similarity of the EfficientNet-Lite0 features.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import imagevars  # noqa: E402
from imagevars.io.decode import decode  # noqa: E402
from imagevars.tasks import ClassifyTask  # noqa: E402

folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__import__("skimage.data").data.__file__)

# 1. Classes and features in one run: the photo is decoded once for both tasks
table = imagevars.run([ClassifyTask(top=3), "embed"], folder, "imagenet_vars.parquet")
df = table.to_pandas()
df = df[df["error"].isna()].reset_index(drop=True)
print(df[["source", "classify_top1_label", "classify_top1_score"]].to_string(index=False))

# 2. Nearest neighbour by cosine similarity of the features
v = np.stack(df["embed_vector"].to_numpy()).astype(np.float32)
v /= np.linalg.norm(v, axis=1, keepdims=True)
similarity = v @ v.T
np.fill_diagonal(similarity, -1)
for i, j in enumerate(similarity.argmax(1)):
    print(
        f"{os.path.basename(df.source[i]):>24} looks most like {os.path.basename(df.source[j])} "
        f"({similarity[i, j]:.2f})"
    )

# 3. The photos with their classes
n = min(len(df), 12)
fig, axes = plt.subplots(3, 4, figsize=(12, 9))
for ax, (_, row) in zip(axes.flat, df.head(n).iterrows()):
    ax.imshow(decode(open(row.source, "rb").read(), row.source, max_side=256).rgb)
    ax.set_title(
        "\n".join(f"{row[f'classify_top{k}_label']} {row[f'classify_top{k}_score']:.2f}" for k in (1, 2, 3)), fontsize=8
    )
for ax in axes.flat:
    ax.axis("off")
fig.tight_layout()
fig.savefig("imagenet_classes.png", dpi=90)
print("written: imagenet_classes.png")
