"""Helpers shared by the test folders, imported as a package (``from tests.support.scans import upload``).

- ``factories``: factory-boy factories of the main models (rows only, not through the services);
- ``scan_fixtures``: the scan tests' fixtures (real detector, platforms, API clients, media, a local
  HTTP server), which other folders' conftests re-export;
- ``scans``, ``reports``, ``console``, ``security``, ``bad_input``: each folder's shared helpers.
"""
