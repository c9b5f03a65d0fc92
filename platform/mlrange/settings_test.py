"""Settings for the test suite: the project's own, as a local run has them.

DEBUG is off unless set (mlrange.settings); tests run like `make run` does, with DEBUG=1 unless
the environment says otherwise, which also reaches the processes tests start (workers, servers).
"""

import os

os.environ.setdefault("DEBUG", "1")

from mlrange.settings import *  # noqa: F403 -- the same settings, read after the line above
