"""Other projects' wire formats on top of the hub: CivitAI's API v1 (`compat.civitai`) and the Hugging
Face Hub read API (`compat.hf`), so tools written for those services work by changing a base URL.

A plain package, not a Django app: no models, no migrations. It reads what every app below it knows
(through their selectors and the download rules) and translates it; only hub/urls.py imports it.
"""
