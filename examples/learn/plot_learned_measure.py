"""Learn your own measure from 300 labels, read its report, and apply it to unlabelled images.

Run: python examples/learn/plot_learned_measure.py        (Fashion-MNIST: Debian's dataset-fashion-mnist,
                                                           $IMAGEVARS_DATA, or downloaded once)

What is simulated, plainly: a researcher's construct, "formal" clothing, coded by hand on 300
images. Here the codes come from Fashion-MNIST's own classes (shirt, coat, ankle boot and bag
count as formal), standing in for a human coder. Everything after that is what a study does:
learn the measure with cross-validation, read the report, apply the measure to the images
nobody coded, and use the scores as a variable.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

import imagevars
from imagevars.datasets import fashion_mnist
from imagevars.learn import learn

FORMAL = {"Shirt", "Coat", "Ankle boot", "Bag"}
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

(train_x, train_y), (test_x, test_y) = fashion_mnist.load_data()
rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp())

# 1. 300 "hand-coded" images, and 1,000 that nobody coded
coded = rng.choice(len(train_x), 300, replace=False)
uncoded = rng.choice(len(test_x), 1000, replace=False)
for i in coded:
    Image.fromarray(train_x[i]).save(folder / f"coded{i}.png")
for i in uncoded:
    Image.fromarray(test_x[i]).save(folder / f"new{i}.png")
labels = pd.DataFrame(
    {
        "path": [str(folder / f"coded{i}.png") for i in coded],
        "formal": ["yes" if CLASSES[train_y[i]] in FORMAL else "no" for i in coded],
    }
)
labels.to_csv(folder / "labels.csv", index=False)

# 2. Learn it: features of a pretrained network, a cross-validated linear model, the report
report = learn(folder / "labels.csv", ["formal"], folder / "formal-measure")
accuracy = report.results["formal"]["metrics"]["accuracy"]
print(
    f"cross-validated accuracy {accuracy['mean']:.3f} [{accuracy['low']:.3f}, {accuracy['high']:.3f}], "
    f"majority-class baseline {report.results['formal']['baseline']['accuracy']['mean']:.3f}"
)
print((folder / "formal-measure" / "report.md").read_text()[:800])

# 3. Apply the measure to the images nobody coded: one row each, P(formal) as a variable
from imagevars.tasks import ClassifyTask  # noqa: E402

scores = imagevars.run([ClassifyTask(str(folder / "formal-measure"))], [str(folder / f"new{i}.png") for i in uncoded])
df = scores.to_pandas()
truth = np.array([CLASSES[test_y[i]] in FORMAL for i in uncoded])
print(
    f"on 1,000 uncoded images: agreement with the classes' truth {(df['classify_formal'] == np.where(truth, 'yes', 'no')).mean():.3f}"
)
print(df[["source", "classify_formal", "classify_formal_p_yes"]].head())
print("figures:", sorted(p.name for p in (folder / "formal-measure").glob("*.png")))
