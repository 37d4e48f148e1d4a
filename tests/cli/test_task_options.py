"""`imagevars run` takes each task's settings from the task's own option list."""

from __future__ import annotations

from imagevars import Results
from imagevars.cli import build_parser, main
from imagevars.cli.run import task_options
from imagevars.tasks import TASKS


def test_every_declared_option_is_a_flag_of_run():
    run = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "run")[1]
    flags = {s for action in run._actions for s in action.option_strings}
    declared = {o.flag for cls in TASKS.values() for o in cls.options}
    assert declared <= flags and {"--long", "--model", "--prompts", "--clip-model", "--clip-backend"} <= declared
    assert len(task_options()["--clip-model"]) == 2  # clip and clip-embed share it


def test_run_passes_the_detect_flags_to_the_detect_task(tmp_path):
    import skimage.data
    from PIL import Image

    Image.fromarray(skimage.data.astronaut()).save(tmp_path / "astronaut.png")
    out = tmp_path / "objects.parquet"
    code = main(
        [
            "run",
            "detect",
            str(tmp_path / "astronaut.png"),
            "--model",
            "centernet-mbv3-coco",
            "--threshold",
            "0.6",
            "--long",
            "-o",
            str(out),
            "-q",
            "--workers",
            "0",
        ]
    )
    assert code == 0
    table = Results.read(out)
    params = table.provenance["tasks"][0]["params"]
    assert params["threshold"] == 0.6 and params["long"] is True and params["model"] == "centernet-mbv3-coco"
    df = table.to_pandas()
    assert "person" in set(df["detect_label"]) and (df["detect_score"] >= 0.6).all()


def test_a_flag_of_a_task_not_in_the_run_is_refused(tmp_path, capsys):
    assert main(["run", "quality", str(tmp_path), "--threshold", "0.5"]) == 2
    assert "--threshold is a setting of detect" in capsys.readouterr().err
