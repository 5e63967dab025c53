"""User reports, the review queue, decisions (``reports.decisions``), appeals and the staff console."""
