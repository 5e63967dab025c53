"""Training pipeline for the detector: data sources, self-blended fakes, training loop, evaluation."""
