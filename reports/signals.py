"""A completed re-scan of a reported post updates its review item (probability, latest scan, score);
an uncertain scan opens one (reports/services/uncertain.py); a staff sign-in clears its brute-force
count (reports/services/login_guard.py).

A ``post_save`` receiver keeps the scan code free of any knowledge of reports; it costs one
indexed query per completed queued scan, and for a new (synchronous) scan nothing unless it is
uncertain.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from moderation.scans.models import Scan
from reports.services.login_guard import login_success_record
from reports.services.review_rescans import review_item_scan_completed
from reports.services.uncertain import review_item_open_for_uncertain

logger = logging.getLogger(__name__)


@receiver(post_save, sender=Scan, dispatch_uid="reports.rescan_completed")
def rescan_completed(sender: type[Scan], instance: Scan, created: bool, **kwargs: Any) -> None:
    if instance.status != Scan.Status.COMPLETED:
        return
    fields = kwargs.get("update_fields")
    if not created and fields is not None and "verdict" not in fields:
        return  # a later save of a finished scan (retention, say): nothing was decided
    try:
        with transaction.atomic():  # a savepoint: a failure here must not undo the scan's own result
            if not created:
                review_item_scan_completed(scan=instance)
            review_item_open_for_uncertain(scan=instance)
    except Exception:
        logger.exception("updating the review items of scan %s failed", instance.pk)


# Failed sign-ins are counted by the authentication backend itself (reports.auth_backends), before the
# password is checked; a sign-in by any means (a session made by force_login too) clears the count.
@receiver(user_logged_in, dispatch_uid="reports.logged_in")
def logged_in(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    login_success_record(username=user.get_username())
