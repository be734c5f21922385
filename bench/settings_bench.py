"""The hub's settings plus a baseline view, for load benchmarks: DJANGO_SETTINGS_MODULE=bench.settings_bench."""

from hub.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"
