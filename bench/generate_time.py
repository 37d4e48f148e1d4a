"""Text-to-image time: imagevars.generate beside a plain diffusers loop, same pipeline, alternating.

    python bench/generate_time.py                     # tiny random SD pipeline, 64x64, 4 steps
    python bench/generate_time.py --real-size --n 1   # SD 1.5's architecture (random weights), 512x512, 20 steps

imagevars draws one image per seeded generator and writes a PNG with its row, its pixel hash
and the table; the plain loop only calls the pipeline (as tutorials do) and keeps the images in
memory. The ratio is the price of the record keeping. Rounds alternate; medians are reported.
No GPU timing here: this machine has none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from quiet import ratio, watch  # noqa: E402  (bench/ is on the path when run as a script)


def build(folder: Path, real_size: bool) -> str:
    from imagevars.testing import save_random_pipeline

    if not real_size:
        return str(save_random_pipeline(folder / "tiny", "sd"))
    import diffusers
    import torch
    import transformers

    from imagevars.models.clip import byte_tokenizer

    torch.manual_seed(0)  # Stable Diffusion 1.5's architecture (860M-parameter UNet), random weights
    tok = byte_tokenizer(folder / "_tok")
    text = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(  # CLIP ViT-L/14's text encoder
            vocab_size=len(tok),
            hidden_size=768,
            intermediate_size=3072,
            num_hidden_layers=12,
            num_attention_heads=12,
            bos_token_id=len(tok) - 2,
            eos_token_id=len(tok) - 1,
            pad_token_id=len(tok) - 1,
        )
    )
    pipe = diffusers.StableDiffusionPipeline(
        unet=diffusers.UNet2DConditionModel(sample_size=64, cross_attention_dim=768),
        vae=diffusers.AutoencoderKL(
            block_out_channels=[128, 256, 512, 512],
            latent_channels=4,
            down_block_types=["DownEncoderBlock2D"] * 4,
            up_block_types=["UpDecoderBlock2D"] * 4,
            layers_per_block=2,
            sample_size=512,
        ),
        text_encoder=text,
        tokenizer=tok,
        scheduler=diffusers.PNDMScheduler(skip_prk_steps=True, steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    out = folder / "sd15-random"
    pipe.save_pretrained(out)
    return str(out)


@watch
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real-size", action="store_true", help="SD 1.5 architecture, 512x512, 20 steps")
    ap.add_argument("--n", type=int, default=8, help="images per round and side")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("IMAGEVARS_THREADS", str(args.threads))
    import torch

    from imagevars.generation import Generator, generate

    torch.set_num_threads(args.threads)
    side, steps = (512, 20) if args.real_size else (64, 4)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        gen = Generator(build(tmp, args.real_size), threads=args.threads)
        prompts = [f"a photo of a camel eating a pear, number {i}" for i in range(args.n)]
        ours, plain = [], []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            generate(
                prompts, tmp / f"out{r}", seed=r, steps=steps, width=side, height=side, generator=gen, progress=False
            )
            ours.append((time.perf_counter() - t0) / args.n)
            t0 = time.perf_counter()
            for i, p in enumerate(prompts):
                gen.pipe(
                    p,
                    num_inference_steps=steps,
                    width=side,
                    height=side,
                    generator=torch.Generator("cpu").manual_seed(r + i),
                ).images[0]
            plain.append((time.perf_counter() - t0) / args.n)
            print(
                f"round {r}: imagevars {ours[-1]:.3f} s/image, plain diffusers loop {plain[-1]:.3f} s/image",
                file=sys.stderr,
            )
    mo, mp = statistics.median(ours), statistics.median(plain)
    what = (
        "SD 1.5 architecture (random weights), 512x512, 20 steps"
        if args.real_size
        else "tiny random SD, 64x64, 4 steps"
    )
    print(f"{what}, {args.threads} threads, median of {args.rounds} rounds x {args.n} images:")
    print(f"  imagevars.generate  {mo:.3f} s/image (PNG with its row, pixel sha256, table)")
    print(f"  plain diffusers     {mp:.3f} s/image")
    print(f"  ratio               {ratio(mo, mp)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
