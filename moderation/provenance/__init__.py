"""Where media came from, in the service layer: hash banks (known fakes, allowed media), FakeME's
watermark and Content Credentials. Used by the scan feature and the generation app alike."""
