"""A submission that writes nothing: the grader must fail it with clear feedback."""

print("nothing to hand in")
