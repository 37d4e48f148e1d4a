"""CLIP figures: search over a million stored embeddings, and image-encoder throughput.

    python bench/clip_bench.py search --n 1000000       # query time over n 512-d embeddings
    python bench/clip_bench.py encoder bench/data/jpegs --n 64

search: a Parquet file of n random unit vectors (written once to bench/data, uncompressed so
it memory-maps), then text-free queries through imagevars.search.top_k; median of --rounds.

encoder: ViT-B/32 CLIP with random weights (timing only), saved to a folder; decode included.
Sides alternate per round: a plain transformers loop (PIL open, CLIPProcessor, CLIPModel
.get_image_features, one image at a time, as tutorials write it), and
`imagevars.run(["clip-embed"])` with the same model in torch and with the ONNX backend.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)


def bench_search(n: int, rounds: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from imagevars.search import top_k

    path = Path(f"bench/data/emb_{n}.parquet")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        schema = pa.schema([("source", pa.string()), ("clip_emb", pa.list_(pa.float32(), 512))])
        with pq.ParquetWriter(path, schema, compression="none") as w:
            for start in range(0, n, 100_000):
                m = min(100_000, n - start)
                v = rng.standard_normal((m, 512), dtype=np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                w.write_table(
                    pa.table(
                        {
                            "source": [f"img{start + i:07d}.jpg" for i in range(m)],
                            "clip_emb": pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), 512),
                        },
                        schema=schema,
                    )
                )
    q = np.random.default_rng(1).standard_normal(512).astype(np.float32)
    q /= np.linalg.norm(q)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        hits = top_k([path], q, 20)
        times.append(time.perf_counter() - t)
    print(
        f"search over {n:,} 512-d embeddings ({path.stat().st_size / 1e9:.1f} GB file): median {statistics.median(times):.3f} s "
        f"per query (rounds {', '.join(f'{x:.2f}' for x in times)}); top score {hits[0][1]:.3f}"
    )


def bench_encoder(folder: str, n: int, rounds: int) -> None:
    import torch
    import transformers
    from make_photos import photo_files
    from PIL import Image

    import imagevars
    from imagevars.models.clip import save_random_clip
    from imagevars.tasks.clip import ClipEmbedTask

    torch.set_num_threads(2)
    model_dir = Path("bench/data/clip-vit-b32-random")
    if not model_dir.exists():  # random weights, the real architecture and processor settings
        save_random_clip(model_dir)
    files = photo_files(folder, n * rounds)
    proc = transformers.CLIPProcessor.from_pretrained(model_dir)
    model = transformers.CLIPModel.from_pretrained(model_dir).eval()
    task = ClipEmbedTask(model=str(model_dir))
    onnx_task = ClipEmbedTask(model=str(model_dir), backend="onnx")
    print(f"ONNX image encoder vs torch: max |difference| of unit embeddings {onnx_task.model.onnx_check:.1e}")
    rates: dict[str, list[float]] = {
        "plain transformers loop": [],
        "imagevars clip-embed": [],
        "imagevars clip-embed, ONNX": [],
    }
    for r in range(rounds):
        chunk = files[r * n : (r + 1) * n]
        t = time.perf_counter()
        with torch.inference_mode():
            for f in chunk:
                inputs = proc(images=Image.open(f).convert("RGB"), return_tensors="pt")
                model.get_image_features(**inputs)
        rates["plain transformers loop"].append(len(chunk) / (time.perf_counter() - t))
        t = time.perf_counter()
        imagevars.run([task], chunk, workers=2, progress=False, batch_size=16)
        rates["imagevars clip-embed"].append(len(chunk) / (time.perf_counter() - t))
        t = time.perf_counter()
        imagevars.run([onnx_task], chunk, workers=2, progress=False, batch_size=16)
        rates["imagevars clip-embed, ONNX"].append(len(chunk) / (time.perf_counter() - t))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} img/s" for k, v in rates.items()), flush=True)
    med = {k: statistics.median(v) for k, v in rates.items()}
    base = med["plain transformers loop"]
    print("medians: " + ", ".join(f"{k} {v:.2f} img/s ({ratio(v, base)})" for k, v in med.items()))


@watch
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["search", "encoder"])
    ap.add_argument("folder", nargs="?", default="bench/data/jpegs")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("IMAGEVARS_THREADS", "2")
    if args.what == "search":
        bench_search(args.n or 1_000_000, args.rounds)
    else:
        bench_encoder(args.folder, args.n or 64, args.rounds)


if __name__ == "__main__":
    main()
