"""The generation API (platform API key): face swaps, their results, engines, protected identities."""
