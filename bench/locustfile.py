"""Locust users for bench.load: learners browsing MLRange's pages and API with think time.

Each simulated learner logs in with a token (one of MLRANGE_BENCH_TOKENS, round robin), then
reads the pages a learner reads (home, levels, the learning path, the quiz and lab lists, a
lab) and the API behind them, waiting 1-3 s between requests.
"""

import itertools
import os

from locust import HttpUser, between, task

TOKENS = itertools.cycle(os.environ.get("MLRANGE_BENCH_TOKENS", "").split(",") or [""])


class Learner(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        token = next(TOKENS)
        self.api_headers = {"Authorization": f"Token {token}"} if token else {}

    @task(3)
    def home(self) -> None:
        self.client.get("/", name="page: home")

    @task(2)
    def levels(self) -> None:
        self.client.get("/levels/", name="page: levels")

    @task(2)
    def path(self) -> None:
        self.client.get("/path/", name="page: learning path")

    @task(2)
    def quizzes(self) -> None:
        self.client.get("/quizzes/", name="page: quizzes")

    @task(2)
    def labs(self) -> None:
        self.client.get("/labs/", name="page: labs")

    @task(2)
    def lab(self) -> None:
        self.client.get("/labs/adversarial-examples/", name="page: a lab")

    @task(2)
    def api_labs(self) -> None:
        self.client.get("/api/v1/labs/", headers=self.api_headers, name="api: labs")

    @task(1)
    def api_progress(self) -> None:
        self.client.get("/api/v1/me/progress/", headers=self.api_headers, name="api: my progress")
