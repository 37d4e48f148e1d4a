"""The lecture's CNN on MNIST, written as the lecture writes it.

Run: python examples/train/plot_lecture_cnn.py  (about 3-4 minutes on 2 CPU cores)
"""

import imagevars
from imagevars.train import figures, set_seed

set_seed(0)
(train_X, train_Y), (test_X, test_Y) = imagevars.datasets.mnist.load_data()

model = imagevars.create_model("mnist-cnn")  # untrained; pretrained=True for the bundled weights
model.summary()
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(train_X, train_Y, batch_size=128, epochs=10, validation_split=0.1)
loss, acc = model.evaluate(test_X, test_Y)
print(f"Test loss {loss:.4f}, test accuracy {acc:.2%}")

probs = model.predict(test_X)
figures.gallery(test_X, test_Y, probs, model.labels, True, "lecture_cnn/right.png")
figures.gallery(test_X, test_Y, probs, model.labels, False, "lecture_cnn/wrong.png")
figures.plot_confusion(test_Y, probs.argmax(1), model.labels, "lecture_cnn/confusion.png")
figures.plot_history(history.history, "lecture_cnn/history.png")
model.save("lecture_cnn/model")
