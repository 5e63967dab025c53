"""FakeME detection engine: faces -> crops -> EfficientNet-V2-S -> calibrated verdicts.

Plain Python (no Django imports) so it can be tested and used from the CLI alone.
"""
