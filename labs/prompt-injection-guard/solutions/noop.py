"""A submission without a guard: the grader must fail it with clear feedback."""

print("nothing to hand in")
