"""TP2 (deep neural networks with Keras), kernel side: what the notebook imports.

Keras set-up and learning curves (the course library), the TP's data with their fixed splits, a
loss recorder, and `check`. Nothing here computes an exercise's answer: deciding is the judge's
business (`judges/tp2`, never shipped).
"""

from course.keras_tools import preparer_keras, tracer_historique

from .data import charger_cancer_sein, charger_chiffres, charger_diabete, donnees_friedman
from .exercises import EXERCISES, check
from .tools import enregistreur_pertes

__all__ = ["EXERCISES", "check", "preparer_keras", "tracer_historique", "charger_cancer_sein",
           "charger_chiffres", "charger_diabete", "donnees_friedman", "enregistreur_pertes"]
