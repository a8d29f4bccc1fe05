"""Reference solutions for chapter 00."""
SOLUTIONS = {"output_and_state_shapes": ((8, 30, 32), (4, 8, 16))}
WRONG = {"output_and_state_shapes": [((8, 30, 16), (2, 8, 16)), ((8, 30, 32), (2, 8, 16)), "no idea"]}
