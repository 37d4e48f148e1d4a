import imagevars


def test_bundled_model_reaches_its_accuracy_on_the_mnist_test_set(mnist):
    (_, _), (test_X, test_Y) = mnist
    model = imagevars.create_model("mnist-cnn", pretrained=True)
    loss, acc = model.evaluate(test_X, test_Y, verbose=0)
    correct = int((model.predict(test_X).argmax(1) == test_Y).sum())
    assert correct >= 9920, correct  # the issue asks >= 99.2%; the lecture's hub model gets 9,822
    assert acc == correct / 10000 and loss < 0.03
    assert model.card.training["test_correct"] == correct  # the card records what it scores
