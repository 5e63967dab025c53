"""What a recovered mark names: the 40-bit payload is a generation's number, and its public id is
that number in hex behind ``gen_`` (the API, the console and the scan's evidence all show it)."""

from __future__ import annotations

GENERATION_ID_PREFIX = "gen_"


def generation_id_for_payload(payload: int) -> str:
    return f"{GENERATION_ID_PREFIX}{payload:010x}"


def payload_for_generation_id(generation_id: str) -> int:
    if not generation_id.startswith(GENERATION_ID_PREFIX):
        raise ValueError(f"not a generation id: {generation_id!r}")
    return int(generation_id[len(GENERATION_ID_PREFIX) :], 16)
