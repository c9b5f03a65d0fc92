"""A submission that writes nothing and never queries: the grader must fail it with clear feedback."""

print("nothing to hand in")
