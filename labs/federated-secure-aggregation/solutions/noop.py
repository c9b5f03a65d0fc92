# A submission that defines nothing: every tier fails with a message naming what is missing.
print("nothing to see here")
