"""Dutch classification of mail: klacht / beleidsvraag / overig, with reasons.

Importing this package is cheap; spaCy is loaded with the model
(:meth:`classifiers.classifier.Classifier.load`).
"""

from classifiers.records import LABELS, Classification

__all__ = ["LABELS", "Classification"]
