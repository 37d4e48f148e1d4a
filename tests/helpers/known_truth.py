"""A known-truth world for the validation tests: listings, a person in the photo or not, and a detector
whose errors depend on the price (it misses people in the dear listings' wide shots)."""

from __future__ import annotations

import numpy as np

from imagevars.validate.corrected import Design

BETA = 2.0  # what a person in the photo adds to sales


def world(rng, n: int = 3000):
    price = rng.normal(size=n)
    person = (rng.random(n) < 1 / (1 + np.exp(-0.5 * price))).astype(float)
    sales = 1 + BETA * person + 0.5 * price + rng.normal(size=n)
    hit = 1 / (1 + np.exp(-(2 - 1.5 * price)))  # P(detected | a person): falls with price
    false_alarm = 1 / (1 + np.exp(-(-2 + price)))
    detected = np.where(person == 1, rng.random(n) < hit, rng.random(n) < false_alarm).astype(float)
    return price, person, sales, detected


def design(rng, n: int = 3000, gold: int = 300, stratified: bool = False) -> Design:
    price, person, sales, detected = world(rng, n)
    pi = np.where(detected == 1, 0.2, 0.05) if stratified else np.full(n, gold / n)
    coded = rng.random(n) < pi
    X_hat = np.column_stack([np.ones(n), detected, price])
    X_true = np.column_stack([np.ones(n), np.where(coded, person, np.nan), price])
    return Design(sales, X_hat, sales, X_true, coded, pi, "ols")
