"""The staff console: server-rendered pages for moderators (queue, items, scans, dashboard, audit, tools).

Every console URL is an entry of ``reports.console.pages`` (path, name, methods, permission, and for a
page its template, title and navigation entry); ``urls.py`` and the navigation bar are built from it.
Views stay thin: reads go through ``reports.console.selectors`` (and the reports backend's
selectors), writes through services; every failure a moderator can meet renders as a message.
"""
