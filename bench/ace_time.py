"""Time for ACE (concept discovery + TCAV) on 50 class images with the bundled EfficientNet-Lite0, and where it goes.

    python bench/make_photos.py bench/data/jpegs --n 2000
    python bench/ace_time.py bench/data/jpegs --images 50

The class images are the first ``--images`` JPEGs of the folder that EfficientNet-Lite0 puts in
its most frequent top-1 class among all of the folder's (real-size photos, decoded to at most 512 px); the
random counterexamples are segments of the class images' own (ACE's default here). Defaults
of the method: SLIC at 15, 50 and 80 segments, 25 clusters, 20 random sets. Prints the seconds
of each step (segmenting, embedding, clustering, TCAV), the concepts found and how busy the
machine was.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from make_photos import photo_files  # noqa: E402
from quiet import Quiet  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--images", type=int, default=50)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    import torch

    import imagevars
    from imagevars.explainers.concepts import concepts

    torch.set_num_threads(args.threads)
    files = photo_files(args.folder, args.images)
    table = imagevars.run(["classify"], files, progress=False).to_pandas()
    label = Counter(table["classify_top1_label"]).most_common(1)[0][0]
    chosen = table.loc[table["classify_top1_label"] == label, "source"].tolist()[: args.images]
    print(f"class {label!r}: {len(chosen)} images")
    with Quiet() as q:
        result = concepts("efficientnet-lite0", chosen, label, seed=0)
    prov = result.provenance
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in prov["seconds_by_step"].items())
    print(
        f"ACE on {prov['images']} images ({prov['segments']:,} segments) at {prov['layer']}: {prov['seconds']:.1f} s "
        f"({steps}); {len(result.table)} concepts, {int(result.table['significant'].sum())} significant"
    )
    print(result.table.head(8).to_string(index=False))
    print(q.line())


if __name__ == "__main__":
    main()
