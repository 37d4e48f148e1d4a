"""Explaining a classifier: SHAP (Deep, Gradient) and Grad-CAM, as arrays, tables and pictures.

``imagevars.explain(model, images, background=..., method="deep")`` is the entry point; the
package is named ``explainers`` so that it does not shadow that function. Needs the
``explain`` extra: ``pip install 'imagevars[explain]'`` (shap, captum).
"""

from .attribution import METHODS, Explanation, explain
from .sanity import randomization_check, randomized_copy, rank_correlation

__all__ = ["METHODS", "Explanation", "explain", "randomization_check", "randomized_copy", "rank_correlation"]
