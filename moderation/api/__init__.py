"""The platform-facing HTTP API (v1): thin views over services and selectors."""
