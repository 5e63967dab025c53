"""Watermarked face-swap generation (SimSwap network, landmark engine; filled by the generation issue)."""
