import json

import imagevars
from imagevars.train.recipes import RECIPES, get_recipe, one_cycle
from imagevars.train.session import evaluate, train


def test_fast_recipe_end_to_end_on_mnist(tmp_path):
    report = train("mnist", recipe="fast", epochs=1, out=tmp_path / "run", seed=0, verbose=0)
    assert report.model.card.name == "mnist-fast-cnn"
    assert report.test_accuracy > 0.97 and report.total == 10000
    card = json.loads((tmp_path / "run" / "model" / "card.json").read_text())
    assert card["training"]["recipe"]["name"] == "fast" and card["training"]["recipe"]["epochs"] == 1
    assert card["training"]["seed"] == 0 and card["training"]["n_train"] == 60000
    assert card["training"]["test_correct"] == report.correct
    again = evaluate(str(tmp_path / "run" / "model"), verbose=0)
    assert again.correct == report.correct


def test_evaluate_bundled_prints_count(capsys):
    report = evaluate("mnist-cnn")
    assert report.correct == imagevars.get_card("mnist-cnn").training["test_correct"]
    assert f"{report.correct:,} of 10,000 correct" in capsys.readouterr().out


def test_recipes_are_what_the_issue_asks():
    lecture = get_recipe("lecture")
    assert (lecture.batch_size, lecture.epochs, lecture.optimizer, lecture.validation_split) == (128, 10, "adam", 0.1)
    assert lecture.model == "mnist-cnn" and lecture.learning_rate == 1e-3 and lecture.schedule == "constant"
    assert RECIPES["bundled"].model == "mnist-cnn"


def test_one_cycle_shape():
    f = one_cycle(1000, 0.01, warmup=0.25)
    rates = [f(s, 0) for s in range(1000)]
    assert max(rates) == rates[249] == 0.01 and rates[0] < 0.0001 and rates[-1] < 0.0002
    assert all(a <= b for a, b in zip(rates[:249], rates[1:250])) and all(
        a >= b for a, b in zip(rates[250:], rates[251:])
    )
