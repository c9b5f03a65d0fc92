"""A submission that defines no scanner: the grader must fail it with clear feedback."""

print("nothing to hand in")
