"""A submission that defines no monitor and writes nothing: the grader must fail it clearly."""

print("nothing to hand in")
