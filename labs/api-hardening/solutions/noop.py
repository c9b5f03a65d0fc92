"""A submission that defines no app: the grader must fail it with clear feedback."""

print("nothing to hand in")
