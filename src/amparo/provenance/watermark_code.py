"""Channel code of the Amparo watermark: a rate-1/3, constraint-length-7 convolutional code.

Spread-spectrum detection gives a soft value per coded bit, so a convolutional code with a
soft-decision Viterbi decoder gains several dB over hard-decision block codes (Reed-Solomon)
for the same redundancy. Generators are the 3GPP rate-1/3 set (octal 133, 171, 165).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

CONSTRAINT_LENGTH = 7
GENERATORS_OCTAL = (0o133, 0o171, 0o165)
RATE_INVERSE = len(GENERATORS_OCTAL)
TAIL_BITS = CONSTRAINT_LENGTH - 1
_STATES = 1 << TAIL_BITS


def _parity(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out = np.zeros_like(values)
    v = values.copy()
    while np.any(v):
        out ^= v & 1
        v >>= 1
    return out


def _transition_outputs() -> npt.NDArray[np.float64]:
    """outputs[state, input_bit, g] in {-1,+1}: the coded symbols leaving `state` on `input_bit`.

    The shift register holds the newest bit in its top position: reg = (bit << 6) | state,
    and the next state is reg >> 1.
    """
    states = np.arange(_STATES, dtype=np.int64)
    out = np.empty((_STATES, 2, RATE_INVERSE), dtype=np.float64)
    for bit in (0, 1):
        reg = (bit << TAIL_BITS) | states
        for g_index, gen in enumerate(GENERATORS_OCTAL):
            out[:, bit, g_index] = 1.0 - 2.0 * _parity(reg & gen)
    return out


_OUTPUTS = _transition_outputs()


def coded_length(message_bits: int) -> int:
    return (message_bits + TAIL_BITS) * RATE_INVERSE


def encode_bits(message: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Encode 0/1 bits (zero-terminated with TAIL_BITS zeros); returns 0/1 coded bits."""
    bits = np.concatenate([np.asarray(message, dtype=np.int64), np.zeros(TAIL_BITS, np.int64)])
    state = 0
    coded = np.empty((bits.size, RATE_INVERSE), dtype=np.uint8)
    for t, bit in enumerate(bits):
        coded[t] = (_OUTPUTS[state, bit] < 0).astype(np.uint8)
        state = ((int(bit) << TAIL_BITS) | state) >> 1
    return coded.reshape(-1)


def viterbi_decode(soft: npt.NDArray[np.float64], message_bits: int) -> npt.NDArray[np.uint8]:
    """Soft-decision Viterbi. `soft` > 0 means coded bit 0 (symbol +1), < 0 means 1."""
    steps = message_bits + TAIL_BITS
    sym = np.asarray(soft, dtype=np.float64).reshape(steps, RATE_INVERSE)
    # branch metric = correlation of expected symbols with the received soft values
    metrics = np.full(_STATES, -np.inf)
    metrics[0] = 0.0
    states = np.arange(_STATES)
    # predecessor of next-state n on input b: reg = (b<<6)|s, n = reg>>1 => s = ((n<<1)&63)|lsb
    prev_a = (states << 1) & (_STATES - 1)
    prev_b = prev_a | 1
    in_bit = states >> (TAIL_BITS - 1)
    decisions = np.empty((steps, _STATES), dtype=bool)
    for t in range(steps):
        branch = _OUTPUTS @ sym[t]  # (states, 2)
        cand_a = metrics[prev_a] + branch[prev_a, in_bit]
        cand_b = metrics[prev_b] + branch[prev_b, in_bit]
        choose_b = cand_b > cand_a
        decisions[t] = choose_b
        metrics = np.where(choose_b, cand_b, cand_a)
    state = 0  # the tail drives the encoder back to state 0
    out = np.empty(steps, dtype=np.uint8)
    for t in range(steps - 1, -1, -1):
        out[t] = state >> (TAIL_BITS - 1)
        state = int(prev_b[state] if decisions[t, state] else prev_a[state])
    return out[:message_bits]
