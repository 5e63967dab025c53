"""Console views, one module per page family; each view is thin (form -> selector/service -> template)."""
