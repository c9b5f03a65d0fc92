"""A submission that writes nothing and defines nothing: the grader must fail it clearly."""

print("nothing to hand in")
