"""The bundled, already-trained mnist-cnn: how many of the 10,000 test digits it gets right.

Run: python examples/train/plot_bundled_model.py  (a few seconds, offline)
"""

import imagevars
from imagevars.train import figures

(_, _), (test_X, test_Y) = imagevars.datasets.mnist.load_data()
model = imagevars.create_model("mnist-cnn", pretrained=True)
probs = model.predict(test_X)
print(f"{(probs.argmax(1) == test_Y).sum():,} of {len(test_Y):,} correct")
print("weights sha256:", model.card.weights.sha256)
print("trained with:", model.card.training.get("command"))
figures.gallery(test_X, test_Y, probs, model.labels, False, "bundled_wrong.png")
