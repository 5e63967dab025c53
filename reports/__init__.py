"""User reports, review queue, decisions, appeals, audit log, console views (filled by the reports issue)."""
