"""A small Keras tool of TP2 (given to the students)."""

from __future__ import annotations

import numpy as np

from course.keras_tools import import_keras


def enregistreur_pertes():
    """Un callback Keras qui enregistre la perte d'apprentissage après chaque mise à jour (chaque
    mini-lot) : `cb = enregistreur_pertes(); model.fit(..., callbacks=[cb]); cb.pertes` est la
    liste."""
    keras = import_keras()

    class EnregistreurPertes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.pertes = []

        def on_train_batch_end(self, batch, logs=None):
            self.pertes.append(float((logs or {}).get("loss", np.nan)))

    return EnregistreurPertes()
