import os
import subprocess
import sys

import pytest

from imagevars.cli import main


def _run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "imagevars.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_import_is_light():
    heavy = ("torch", "onnxruntime", "matplotlib", "PIL", "pyarrow", "pandas", "skimage", "scipy")
    code = f"import sys, imagevars; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_eval_bundled_model_offline():
    out = _run("eval", "mnist-cnn", env={"IMAGEVARS_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert "mnist-cnn on the mnist test set:" in out.stdout and "of 10,000 correct" in out.stdout


def test_models_lists_cards(capsys):
    assert main(["models"]) == 0
    assert "mnist-cnn" in capsys.readouterr().out
    assert main(["models", "mnist*", "--json"]) == 0
    assert '"sha256"' in capsys.readouterr().out


def test_train_folder_from_the_command_line(tmp_path, mnist):
    from digits import write_digits

    write_digits(tmp_path / "photos", mnist, classes=(4, 9), per_class=30)
    out = _run("train", str(tmp_path / "photos"), "--epochs", "1", "-o", str(tmp_path / "run"), "--no-onnx", "-q")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()
    assert '"command": "imagevars train' in (tmp_path / "run" / "model" / "card.json").read_text()


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "no/such/folder"], "neither a dataset name"),
        (["train", "mnist", "--recipe", "slow"], "unknown recipe 'slow'"),
        (["eval", "no-such-model"], "neither a registered model"),
        (["explain", "no-such-model"], "neither a registered model"),
    ],
)
def test_errors_are_one_clear_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_extra_names_the_install(monkeypatch):
    from imagevars._extras import require

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(
        ImportError, match=r"ONNX export needs onnxruntime, which is not installed: pip install \"imagevars\[onnx\]\""
    ):
        require("onnxruntime", "ONNX export")


def test_demo_runs_the_main_job_offline(tmp_path):
    out = _run("demo", "-o", str(tmp_path / "demo"), env={"IMAGEVARS_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert "astronaut.png" in out.stdout and "written to" in out.stdout
    from imagevars import Results

    res = Results.read(tmp_path / "demo" / "photo_vars.parquet")
    assert len(res) >= 25 and [t["name"] for t in res.provenance["tasks"]] == ["quality", "detect", "classify"]
    assert res.n_errors <= 2  # scikit-image ships one multi-page RGB TIFF that Pillow cannot read
    df = res.to_pandas()
    video = df[df["source"].str.endswith("astronaut_pan.mp4")]
    assert len(video) == 4 and (video["detect_person_any"] > 0.4).all()  # one frame a second; the person seen in each
    report = tmp_path / "demo" / "photo_vars.html"
    assert out.stdout.strip().splitlines()[-1] == f"Report: {report}" and report.stat().st_size > 10_000


def test_codebook_defines_every_column(capsys):
    import re

    import imagevars

    assert main(["codebook", "detect", "quality"]) == 0
    text = capsys.readouterr().out
    for task in ("detect", "quality"):
        for field in imagevars.tasks.get_task(task).fields():
            name = field.name.split("_", 1)[1]  # as the codebook writes it: per class, per rank, per colour
            name = re.sub(r"^top\d+_", "top{k}_", re.sub(r"^(count|area)_.*", r"\1_{c}", name))
            name = re.sub(r"^color\d+_", "colorN_", name)
            assert name in text, f"{field.name} is not defined in the codebook"


def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path):
    """`imagevars train` on a core install: one line naming `pip install "imagevars[train]"`, not
    `No module named 'torch'` (torch hidden from a fresh interpreter, as if not installed)."""
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from imagevars.cli import main\n"
        f"sys.exit(main(['train', 'mnist', '-o', {str(tmp_path / 'run')!r}, '--epochs', '1']))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        'imagevars train: error: this needs torch, which is not installed: pip install "imagevars[train]"'
    ]
