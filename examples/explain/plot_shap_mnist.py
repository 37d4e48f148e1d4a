"""The lecture's SHAP figure, then a table that summarises explanations across many images.

Run: python examples/explain/plot_shap_mnist.py  (about a minute on 2 cores, offline)

The lecture drew 25 random training images as the background and explained test images with
DeepExplainer. Here the draw is seeded, so the figure is reproducible, and the provenance of
every number says which images made the background.
"""

import numpy as np

import imagevars
from imagevars.explainers import randomization_check

(train_X, train_Y), (test_X, test_Y) = imagevars.datasets.mnist.load_data()
model = imagevars.create_model("mnist-cnn", pretrained=True)

# 1. The lecture: SHAP maps of ten test images for all ten classes
values = imagevars.explain(
    model, test_X[:10], background=train_X, n_background=25, seed=0, y_true=test_Y[:10], method="deep"
)
values.plot("shap_first_ten.png", title="mnist-cnn: DeepExplainer, 25-image background")
print("background drawn:", values.provenance["background"]["indices"][:5], "...")

# 2. A table: where does the evidence lie? 200 test images, the top class only (faster)
e = imagevars.explain(
    model, test_X[:200], background=train_X, n_background=100, seed=0, y_true=test_Y[:200], targets="top", progress=True
)
df = e.to_table().to_pandas()
print(df.groupby("explain_correct")[["explain_prob", "explain_pos_share_ink", "explain_ink_lift"]].median())

# 3. Adebayo et al.'s check: do the maps depend on what the model learned?
r = randomization_check(model, test_X[:10], background=train_X[:1000], n_background=25)
print(f"rank correlation, trained vs randomised weights: median {np.median(r):.2f} (near 0 passes)")
