"""The staff console: server-rendered pages for moderators (queue, items, scans, dashboard, audit, tools).

Views stay thin: reads go through ``reports.console.selectors`` (and the reports backend's
selectors), writes through services; every failure a moderator can meet renders as a message.
"""
