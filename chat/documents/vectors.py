"""Vectors as passages keep them and as a question is compared with them. numpy is
imported with this module, which only a site with embeddings turned on loads (16 MB a
process otherwise spent for nothing)."""

import math
from collections.abc import Sequence

import numpy as np

# Stored in Passage.embedding: float32, little-endian, scaled to length 1, so that a dot
# product is the cosine.
VECTOR_TYPE = np.dtype("<f4")


def vector_pack(values: Sequence[float]) -> bytes | None:
    """A vector as stored and compared; None for one with no direction (all zeros, or
    not numbers)."""
    vector = np.asarray(values, dtype=np.float64)
    norm = float(np.linalg.norm(vector))
    if not math.isfinite(norm) or norm == 0:
        return None
    return (vector / norm).astype(VECTOR_TYPE).tobytes()


def vectors_nearest(
    question: bytes, candidates: Sequence[tuple[int, bytes]], limit: int
) -> list[int]:
    """The ids of the `limit` candidates nearest the question, nearest first; a vector of
    another length (another model's) is not compared."""
    same = [(pk, bytes(vector)) for pk, vector in candidates if len(vector) == len(question)]
    if not same or not question:
        return []
    matrix = np.frombuffer(b"".join(vector for _, vector in same), dtype=VECTOR_TYPE)
    scores = matrix.reshape(len(same), -1) @ np.frombuffer(question, dtype=VECTOR_TYPE)
    # Ties keep the passages' order (the candidates come in reading order).
    order = np.argsort(-scores, kind="stable")[:limit]
    return [same[i][0] for i in order]
