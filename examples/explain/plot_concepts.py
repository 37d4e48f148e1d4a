"""Which concepts does a network use? ACE finds a planted one: the red square that decides the class.

On random textures, half the images hold a small red square (the class) and half of every class a
blue circle (a distractor). A small CNN learns the task; ACE cuts the class images into
superpixels, clusters them at a layer of the network, and tests each cluster with TCAV. The red
squares come out as the most important concept; the figure shows each concept's segments above
the images they came from.

Run: python examples/explain/plot_concepts.py [OUT_FOLDER]     (about half a minute on 2 cores)
"""

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "helpers"))
import imagevars  # noqa: E402
from imagevars.explainers.concept_net import ConceptNet  # noqa: E402
from planted import dataset  # noqa: E402  (the test suite's planted-concept images)

out = sys.argv[1] if len(sys.argv) > 1 else "concepts"
torch.manual_seed(0)
x, y, _ = dataset(600, seed=0)
net = nn.Sequential(
    nn.Conv2d(3, 16, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(32, 32, 3, padding=1),
    nn.ReLU(),
    nn.AdaptiveMaxPool2d(1),
    nn.Flatten(),
    nn.Linear(32, 2),
)
model = ConceptNet(net, 48, ["plain", "red square"])  # any PyTorch classifier: the module, its input side, labels
inputs, labels = model.prepare(list(x)), torch.from_numpy(y)
opt = torch.optim.Adam(net.parameters(), 1e-3)
for _epoch in range(8):
    for s in range(0, len(inputs), 32):
        opt.zero_grad()
        nn.functional.cross_entropy(net(inputs[s : s + 32]), labels[s : s + 32]).backward()
        opt.step()
net.eval()

xa, ya, _ = dataset(80, seed=2)
red = [xa[i] for i in range(80) if ya[i] == 1]
plain = [xa[i] for i in range(80) if ya[i] == 0]
result = imagevars.explain.concepts(model, red, target="red square", random_images=plain, seed=0)
print(result.table.head(8).to_string(index=False))
print(result.save(out))
