"""Embed / recover a keyed invisible watermark (filled by the watermark issue)."""
