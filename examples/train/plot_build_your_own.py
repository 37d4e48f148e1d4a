"""Build the network layer by layer, then do the course's exercise: add a third convolution.

Run: python examples/train/plot_build_your_own.py      (MNIST from ../shared, $IMAGEVARS_DATA or downloaded once;
                                                        about a minute on 2 cores)

The lecture's "Build the model" step, with ``keras.`` replaced by ``imagevars.``, and the
exercise every course sets: add a third convolution; what happens to accuracy and to the number
of parameters? Both networks train for two epochs on the same data with the same seed.
"""

import imagevars
from imagevars import layers


def lecture(third: bool):
    stack = [
        layers.InputLayer(input_shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
    ]
    if third:  # the exercise: one more convolution, padded so the 5x5 maps keep their size
        stack.append(layers.Conv2D(64, kernel_size=(3, 3), padding="same", activation="relu"))
    stack += [layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")]
    return imagevars.Sequential(stack, name="three-conv" if third else "lecture")


(train_X, train_Y), (test_X, test_Y) = imagevars.datasets.mnist.load_data()
train_Y = imagevars.utils.to_categorical(train_Y, 10)
for third in (False, True):
    imagevars.train.set_seed(0)
    model = lecture(third)
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(train_X, train_Y, batch_size=128, epochs=2, validation_split=0.1, verbose=0)
    loss, accuracy = model.evaluate(test_X, test_Y, verbose=0)
    print(f"{model.card.name}: {model.count_params():,} parameters, test accuracy {accuracy:.2%}")
model.save("three-conv-model/")  # then: imagevars run classify DIGITS/ --model three-conv-model/
