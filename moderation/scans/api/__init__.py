"""The scan API: views and serializers."""
