"""Install the built wheel into a fresh virtual environment of one Python and use it as a new user would.

    python tools/wheel_smoke.py dist/imagevars-0.2.0-py3-none-any.whl --python python3.12

Run from the checkout, it works in a temporary folder outside it, so nothing is imported from
``src/``. Steps, each checked:

1. a fresh venv; ``pip install WHEEL`` with no extras; ``imagevars --version``;
2. ``imagevars samples photos`` and ``imagevars run quality photos -o q.parquet``: a row per photo,
   no errors (the core install is enough for ``quality``);
3. ``imagevars run detect photos``: refused in one line that names ``pip install "imagevars[onnx]"``;
4. ``pip install "WHEEL[onnx]"``; ``imagevars run quality,detect,classify photos --workers 2``: the
   bundled models give every photo its row, the astronaut a person, with the workers started as
   the engine chose (recorded in the provenance).

``--constraints FILE`` installs through the project's pins (Python 3.11 and later; numpy 2.4 and
pandas 3 need 3.11, so Python 3.10 resolves its own versions from the wheel's ranges).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

UNREADABLE = 1  # scikit-image's multipage_rgb.tif, which Pillow cannot identify: one error row, as it should be


def sh(*cmd: str | os.PathLike, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    print("+", " ".join(map(str, cmd)), flush=True)
    done = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "IMAGEVARS_THREADS": "2", "PYTHONPATH": ""},
    )
    if check and done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, cmd))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def check_contents(wheel: Path, src: Path) -> None:
    """The wheel holds the package (every module, and every data file under ``src/imagevars``: weights, label
    lists, pages, prompts) and its metadata, nothing else."""
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    outside = sorted(n for n in names if not n.startswith(("imagevars/", "imagevars-")))
    assert not outside, f"the wheel holds files outside the package: {outside[:10]}"
    want = {
        f"imagevars/{p.relative_to(src).as_posix()}"
        for p in src.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    inside = {n for n in names if n.startswith("imagevars/")}
    assert inside == want, f"missing: {sorted(want - inside)[:10]}; extra: {sorted(inside - want)[:10]}"
    print(f"  {wheel.name}: {len(inside)} package files, the same as src/imagevars holds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--python", default=sys.executable, help="the interpreter to make the venv with")
    parser.add_argument("--constraints", type=Path, help="install through these pins")
    args = parser.parse_args()
    wheel = args.wheel.resolve()
    check_contents(wheel, Path(__file__).resolve().parents[1] / "src" / "imagevars")
    pins = ["-c", str(args.constraints.resolve())] if args.constraints else []
    with tempfile.TemporaryDirectory(prefix="imagevars-wheel-") as tmp:
        work = Path(tmp)
        # 1. A fresh venv, the wheel with no extras
        sh(args.python, "-m", "venv", work / "venv", cwd=work)
        py, cli = work / "venv/bin/python", work / "venv/bin/imagevars"
        pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins]
        sh(*pip, wheel, cwd=work)
        version = sh(cli, "--version", cwd=work).stdout.strip()
        where = sh(py, "-c", "import imagevars, sys; print(imagevars.__file__, sys.version.split()[0])", cwd=work)
        assert "site-packages" in where.stdout, where.stdout
        print(f"  {version} from {where.stdout.strip()}")

        # 2. quality on the sample photos, core install
        sh(cli, "samples", "photos", cwd=work)
        n_photos = len(list((work / "photos").iterdir()))
        sh(cli, "run", "quality", "photos", "-o", "q.parquet", "-q", cwd=work)
        counts = sh(
            py,
            "-c",
            "import pyarrow.parquet as pq; t = pq.read_table('q.parquet'); "
            "print(t.num_rows, t.column('error').null_count)",
            cwd=work,
        ).stdout.split()
        rows, measured = map(int, counts)
        assert rows == n_photos and measured >= n_photos - UNREADABLE, (counts, n_photos)
        print(f"  quality: {rows} rows, {rows - measured} error row(s)")

        # 3. a task that needs an extra says which
        refused = sh(cli, "run", "detect", "photos", "-o", "d.parquet", cwd=work, check=False)
        assert refused.returncode == 2 and 'pip install "imagevars[onnx]"' in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        print(f"  detect without the extra: {refused.stderr.strip()}")

        # 4. the onnx extra: the bundled models, two workers
        sh(*pip, f"{wheel}[onnx]", cwd=work)
        sh(cli, "run", "quality,detect,classify", "photos", "-o", "t.parquet", "--workers", "2", "-q", cwd=work)
        report = sh(
            py,
            "-c",
            "import json, imagevars; r = imagevars.Results.read('t.parquet'); df = r.to_pandas(); "
            "a = df[df.source.str.endswith('astronaut.png')].iloc[0]; "
            "print(json.dumps({'rows': len(df), 'errors': int(df.error.notna().sum()), "
            "'person': float(a.detect_person_max), 'engine': r.provenance['engine']}))",
            cwd=work,
        )
        got = json.loads(report.stdout)
        assert got["rows"] == n_photos and got["errors"] <= UNREADABLE and got["person"] > 0.5, got
        assert got["engine"]["workers"] == 2 and got["engine"]["start_method"], got
        print(f"  quality,detect,classify with 2 workers: {got}")
    print(f"ok: {wheel.name} on {args.python}")


if __name__ == "__main__":
    main()
