"""Photo-quality variables for a folder of images, as a table for a regression.

Run: python examples/measure/plot_quality.py [FOLDER]   (default: scikit-image's sample photos)
"""

import os
import sys

import imagevars

folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__import__("skimage.data").data.__file__)

# Rows are written to the Parquet file as they come; re-running after a crash resumes.
table = imagevars.run(["quality"], folder, "quality_vars.parquet")
print(table)  # Results(N rows, 21 columns, tasks: quality, errors: ...)

df = table.to_pandas()
print(df[["source", "quality_brightness", "quality_colorfulness", "quality_sharpness"]].head())
print(table.errors())  # what could not be measured, and why

# Provenance travels with the file: package version, task parameters, when it ran.
print(imagevars.Results.read("quality_vars.parquet").provenance["tasks"])
