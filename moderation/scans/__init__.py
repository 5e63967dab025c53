"""The scan feature: submit a post's media, run the detector and the provenance signals, decide, tag."""
