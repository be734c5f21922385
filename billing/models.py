"""Models of this app arrive with the issues that need them."""
