"""The visitors of bench/load.py: people browsing, searching, opening model pages and downloading.

Run by bench/load.py (`locust -f bench/locustfile.py --headless ...`), which writes the targets (model
pages, downloadable versions, search words) to the JSON file named by LOAD_TARGETS. Each simulated
visitor waits 1-5 s between requests (3 s on average), as someone reading and clicking through the
catalog would: 200 visitors ask for about 65 pages a second. Every page
is named by its kind, so locust's statistics are per page, not per URL; `baseline` is the bare
one-SELECT view of bench/urls_bench.py, measured in the same mix and the same run.
"""

import json
import os
import random

from locust import FastHttpUser, between, task

with open(os.environ["LOAD_TARGETS"]) as f:
    TARGETS = json.load(f)
MODELS = TARGETS["models"]  # [[id, slug], ...] of published models
VERSIONS = TARGETS["versions"]  # ids of published versions whose files have bytes (seed_demo)
WORDS = TARGETS["words"]
SORTS = ["", "?sort=newest", "?sort=downloads", "?sort=rated"]


class Visitor(FastHttpUser):  # geventhttpclient: several times less CPU than requests
    wait_time = between(1, 5)

    def get(self, url: str, name: str):
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code >= 400:
                response.failure(f"HTTP {response.status_code}")

    @task(1)
    def baseline(self):
        self.get("/bench/baseline", "baseline")

    @task(2)
    def home(self):
        self.get("/", "home")

    @task(4)
    def browse(self):
        self.get("/models/" + random.choice(SORTS), "browse page")

    @task(2)
    def browse_api(self):
        self.get("/api/hub/models?limit=100", "browse API")

    @task(4)
    def search(self):
        self.get("/search/?q=" + random.choice(WORDS), "search page")

    @task(2)
    def search_api(self):
        self.get(f"/api/hub/models?q={random.choice(WORDS)}&limit=24", "search API")

    @task(6)
    def model_page(self):
        model_id, slug = random.choice(MODELS)
        self.get(f"/models/{model_id}/{slug}", "model page")

    @task(2)
    def download(self):
        # The download endpoint answers 307 to a signed /files/ URL, which the client follows.
        self.get(f"/api/download/models/{random.choice(VERSIONS)}", "download")
