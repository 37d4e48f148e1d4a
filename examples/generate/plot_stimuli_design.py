"""A 2 x 3 stimulus design: two conditions, three seeds each, then the images measured.

Run: python examples/generate/plot_stimuli_design.py            (SDXL-Turbo; internet once, 7 GB)
     python examples/generate/plot_stimuli_design.py --tiny     (a tiny random pipeline, offline, noise)

Each condition gets the same seeds, so the two sets differ by their words, not their starting
noise. Every PNG carries its row; the table joins the quality variables on `source`.
"""

import sys
import tempfile
from pathlib import Path

import imagevars

tiny = "--tiny" in sys.argv
out = Path("stimuli")
design = out / "design.csv"
out.mkdir(exist_ok=True)
design.write_text(
    "condition,prompt\n"
    'warm,"a smiling barista handing over a coffee, natural light, photo"\n'
    'cold,"a barista handing over a coffee, fluorescent light, photo"\n'
)

if tiny:
    from imagevars.testing import save_random_pipeline

    model, size = str(save_random_pipeline(Path(tempfile.mkdtemp()) / "tiny", "sd")), dict(width=64, height=64, steps=4)
else:
    model, size = "sdxl-turbo", {}

# 1. Draw: 2 conditions x 3 seeds (7, 8, 9), one row per image
stimuli = imagevars.generate(design=design, output=out, n=3, seed=7, model=model, **size)
df = stimuli.to_pandas()
print(
    df[["condition", "generate_seed", "generate_sha256", "source"]]
    .assign(generate_sha256=df.generate_sha256.str[:12])
    .to_string(index=False)
)

# 2. Measure the stimuli as any other photos, and join on the file
quality = imagevars.run(["quality"], list(df.source), progress=False).to_pandas()
both = df[["source", "condition", "generate_seed"]].merge(quality, on="source")
print(both.groupby("condition")[["quality_brightness", "quality_colorfulness"]].mean().round(3))
