"""TP3 (convolutional networks), kernel side: what the notebook imports.

Keras set-up and learning curves (the course library), the digits as 8×8×1 images, an image
grid, a texture made by code and its synthesis on random-filter Gram statistics (torch), and
`check`. Nothing here computes an exercise's answer: no convolution, pooling or
parameter count (the judge's oracles are in `judges/tp3`, never shipped).
"""

from course.keras_tools import preparer_keras, tracer_historique

from .data import afficher_images, charger_chiffres_images
from .exercises import EXERCISES, check
from .texture import synthetiser_texture, texture_source

__all__ = ["EXERCISES", "check", "preparer_keras", "tracer_historique", "afficher_images",
           "charger_chiffres_images", "texture_source", "synthetiser_texture"]
