"""Vectors as passages keep them: of length 1, float32; a question is compared only with
vectors of its own length, nearest first."""

import math

import numpy as np

from chat.documents.vectors import VECTOR_TYPE, vector_pack, vectors_nearest


def test_a_vector_is_kept_of_length_one_in_float32():
    packed = vector_pack([3.0, 4.0])

    assert packed is not None
    assert np.frombuffer(packed, dtype=VECTOR_TYPE).tolist() == [
        0.6000000238418579,
        0.800000011920929,
    ]


def test_a_vector_with_no_direction_is_not_kept():
    assert vector_pack([0.0, 0.0]) is None
    assert vector_pack([math.nan, 1.0]) is None
    assert vector_pack([math.inf, 1.0]) is None


def test_the_nearest_come_first_and_another_length_is_not_compared():
    question = vector_pack([1.0, 0.0])
    assert question is not None
    candidates = [
        (1, vector_pack([0.0, 1.0])),
        (2, vector_pack([1.0, 0.1])),
        (3, vector_pack([1.0, 0.0, 0.0])),  # another model's
        (4, vector_pack([1.0, 1.0])),
    ]

    assert vectors_nearest(question, candidates, limit=5) == [2, 4, 1]
    assert vectors_nearest(question, candidates, limit=1) == [2]
    assert vectors_nearest(question, [], limit=1) == []
