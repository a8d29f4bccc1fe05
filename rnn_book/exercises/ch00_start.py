"""Chapter 00: the example exercise."""
from .core import Wrong, exercise


@exercise
def output_and_state_shapes(answer):
    """Shapes for GRU(5, 16, num_layers=2, bidirectional=True) on x of shape (8, 30, 5)."""
    try:
        out, state = (tuple(answer[0]), tuple(answer[1]))
    except (TypeError, IndexError, ValueError):
        raise Wrong("give a pair of tuples: (outputs_shape, state_shape)")
    if out != (8, 30, 32):
        hint = " — both directions are concatenated along the last axis" if out == (8, 30, 16) else ""
        raise Wrong(f"outputs shape {out} is not right{hint}")
    if state != (4, 8, 16):
        hint = " — there is one row per layer *and* direction" if state == (2, 8, 16) else ""
        raise Wrong(f"state shape {state} is not right{hint}")
