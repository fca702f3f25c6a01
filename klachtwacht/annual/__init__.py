"""The Awb 9:12a annual overview of registered complaints (``klachtwacht report annual``)."""

from klachtwacht.annual.figures import AnnualFigures, ComplaintRow, annual_figures, masked

__all__ = ["AnnualFigures", "ComplaintRow", "annual_figures", "masked"]
