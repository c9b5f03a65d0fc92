"""The sandbox: bubblewrap-confined Jupyter kernels and graders. Imports no Django."""
