"""Auction prices from the painting's image plus hedonic variables, tested out of time (after Aubry et al.).

Run: python examples/learn/plot_auction_prices.py        (Fashion-MNIST: Debian's dataset-fashion-mnist,
                                                          $IMAGEVARS_DATA, or downloaded once)

The study's design: a price model on the painting's image and the usual hedonic variables (year
of sale, size, medium), trained on earlier sales and tested on later ones, reported against the
hedonic variables alone, so the table says what the image adds.

What is simulated, plainly: the "paintings" and their prices. 1,000 Fashion-MNIST pictures stand in
for catalogue images; the log price is made from what the picture shows (some item types sell
dearer), the year, the width and the medium, plus noise. The split, the comparison and the
report are what a study runs on its own sales.

What to read in the output: the image alone predicts later sales poorly, because prices rose
over the years and a picture does not say when it was sold; the hedonic variables alone do
better; the image added to them does best, and the gap between the last two rows is what the
picture tells a buyer beyond size, medium and date.
"""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from imagevars.datasets import fashion_mnist
from imagevars.learn import learn

(x, y), _ = fashion_mnist.load_data()
rng = np.random.default_rng(0)
folder = Path(tempfile.mkdtemp())
premium = rng.normal(0, 1.0, 10)  # what each kind of picture adds to the log price
rows = []
for k, i in enumerate(rng.choice(len(x), 1000, replace=False)):
    path = folder / f"lot{k}.png"
    Image.fromarray(x[i]).save(path)
    year, width = int(rng.integers(2005, 2020)), float(rng.uniform(20, 150))
    medium = str(rng.choice(["oil", "watercolour", "print"], p=[0.5, 0.3, 0.2]))
    log_price = (
        8
        + premium[y[i]]
        + 0.04 * (year - 2005)
        + 0.6 * np.log(width)
        + {"oil": 0.8, "watercolour": 0.0, "print": -0.9}[medium]
        + rng.normal(0, 0.4)
    )
    rows.append({"path": str(path), "year": year, "width_cm": width, "medium": medium, "log_price": log_price})
pd.DataFrame(rows).to_csv(folder / "sales.csv", index=False)

report = learn(
    folder / "sales.csv",
    ["log_price"],
    folder / "price-model",
    split="year < 2015",
    tabular=["year", "width_cm", "medium"],
)
r = report.results["log_price"]
print(f"trained on {r['n_train']} sales before 2015, tested on {r['n_test']} from 2015 on")
print(
    f"image only        R² {r['metrics']['r2']['mean']:.3f} [{r['metrics']['r2']['low']:.3f}, "
    f"{r['metrics']['r2']['high']:.3f}]"
)
for name, m in r["compare"].items():
    print(f"{name:17s} R² {m['r2']['mean']:.3f} [{m['r2']['low']:.3f}, {m['r2']['high']:.3f}]")
print("Report:", folder / "price-model" / "report.md")
