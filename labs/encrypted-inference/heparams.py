"""CKKS parameters of the encrypted-inference lab, shared by the learner and the grader.

Learners import it from the lab assets to make contexts of their own for testing (with a
secret key, to decrypt their results); the grader makes its own context with the same
parameters for every grading and hands your code only the public part.
"""

import tenseal as ts

POLY_MODULUS_DEGREE = 4096
"""Ring dimension: 2048 slots per ciphertext."""
COEFF_MOD_BIT_SIZES = (40, 30, 39)
"""109 bits in all, the most SEAL allows for 128-bit security at degree 4096: one rescale."""
SCALE_BITS = 30
SLOTS = POLY_MODULUS_DEGREE // 2


def make_context(*, n_threads: int = 1) -> ts.Context:
    """A fresh CKKS context WITH a secret key, global scale 2**30 and Galois (rotation) keys."""
    context = ts.context(
        ts.SCHEME_TYPE.CKKS,
        poly_modulus_degree=POLY_MODULUS_DEGREE,
        coeff_mod_bit_sizes=list(COEFF_MOD_BIT_SIZES),
        n_threads=n_threads,
    )
    context.global_scale = 2**SCALE_BITS
    context.generate_galois_keys()
    return context


def public_bytes(context: ts.Context) -> bytes:
    """The context serialized WITHOUT its secret key: public, relinearization and Galois keys only."""
    return context.serialize(save_public_key=True, save_secret_key=False, save_galois_keys=True)
