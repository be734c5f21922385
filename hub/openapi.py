"""The OpenAPI schema (drf-spectacular) covers the hub's own API only: the CivitAI- and Hugging
Face-compatible APIs follow other projects' contracts and are documented by those projects."""

HUB_API_PREFIX = "/api/hub/"


def only_the_hub_api(endpoints):
    """drf-spectacular preprocessing hook: keep the endpoints under /api/hub/."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(HUB_API_PREFIX)]
