"""Writes and actions (HackSoft style): every change to the scan API's data goes through here."""
