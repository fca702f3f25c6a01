"""The baseline: TF-IDF and logistic regression (scikit-learn) on the same split.

It sees the same prepared text as the shipped model and is judged by the same
figures, so the comparison is fair.
"""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.classifier import model_input
from classifiers.corpus import Example
from classifiers.records import LABELS

__all__ = ["Baseline"]


class Baseline:
    """Word and character n-gram TF-IDF into a multinomial logistic regression."""

    name = "baseline tfidf+logreg"

    def __init__(self, seed: int = 7) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        features = FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)),
                ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
            ]
        )
        self.model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=2000, random_state=seed))

    def fit(self, examples: Sequence[Example]) -> Baseline:
        self.model.fit([model_input(e.subject, e.body).text for e in examples], [e.label for e in examples])
        return self

    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Label probabilities per prepared text."""
        classes = list(self.model.classes_)
        rows = self.model.predict_proba(list(texts))
        return [{label: float(row[classes.index(label)]) for label in LABELS} for row in rows]
