"""How far do two coders agree, and how well does the model match their gold? Kappa, alpha and the model's AUC.

Run: python examples/validate/plot_agreement.py      (a few seconds; no images needed)

What is simulated, plainly: 300 images, a person in 40% of them; two coders who each give the
right answer 90% of the time, their slips independent; and a detector whose ``person_any`` score
is higher on the images with a person. Theory says the coders' kappa is 0.63: they agree on
0.9² + 0.1² = 82% of the images, each says yes on 42%, so chance agreement is 0.42² + 0.58² =
51.3%, and (0.82 - 0.513) / (1 - 0.513) = 0.63. ``validate.agree`` reads the coders' CSVs as the
coding page exports them, and the table the model made, as a study's would be read.
"""

import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402

from imagevars import validate  # noqa: E402
from imagevars.io.table import Results  # noqa: E402

rng = np.random.default_rng(0)
n = 300
person = rng.random(n) < 0.4
sources = [f"photos/{i:03d}.jpg" for i in range(n)]
folder = Path(tempfile.mkdtemp())
for coder in ("A", "B"):
    right = rng.random(n) < 0.9
    answer = np.where(person == right, "yes", "no")  # right: the truth; a slip: the other answer
    pd.DataFrame({"source": sources, "coder": coder, "person_present": answer}).to_csv(
        folder / f"coder_{coder}.csv", index=False
    )
score = 1 / (1 + np.exp(-(2.5 * person - 1.25 + rng.normal(0, 1, n))))  # the detector's person_any
Results(
    pa.table({"source": sources, "error": pa.array([None] * n, pa.string()), "detect_person_any": score}),
    {"tasks": [{"name": "detect"}]},
).write(folder / "vars.parquet")

result = validate.agree(
    [folder / "coder_A.csv", folder / "coder_B.csv"],
    table=folder / "vars.parquet",
    variable="detect_person_any",
    truth="person_present",
    out=folder / "agreement",
)
coders = result["coders"]["person_present"]
print("coders' agreement beyond chance (theory: 0.630):")
for stat in ("kappa", "alpha"):
    s = coders[stat]
    print(f"  {stat}: {s['estimate']:.3f} [{s['low']:.3f}, {s['high']:.3f}]")
model = result["model"]
print(
    f"model vs the coders' gold on the {model['n']} images they agree on: AUC {model['auc']:.3f}; "
    f"{model['items_coders_disagree_on']} images to adjudicate in {folder / 'agreement' / 'disagreements.csv'}"
)

fig, ax = plt.subplots(figsize=(6, 2.5))
for y, stat in enumerate(("kappa", "alpha")):
    s = coders[stat]
    ax.errorbar(s["estimate"], y, xerr=[[s["estimate"] - s["low"]], [s["high"] - s["estimate"]]], fmt="o", capsize=4)
ax.axvline(0.63, color="grey", linestyle="--", label="theory")
ax.set_yticks([0, 1], ["Cohen's kappa", "Krippendorff's alpha"])
ax.set_xlim(0, 1)
ax.set_xlabel("agreement beyond chance (95% bootstrap interval)")
ax.set_ylim(-0.6, 1.6)
ax.legend(loc="lower left", frameon=False)
plt.tight_layout()
plt.savefig(folder / "agreement.png", dpi=120)
print("figure:", folder / "agreement.png")
