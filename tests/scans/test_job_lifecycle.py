"""Scans and generations run through one job lifecycle (``moderation.core.jobs``): the same fields,
the same failure, the same sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import Generation
from moderation.core.jobs import job_fail, job_kind, job_kinds, job_stranded_ids
from moderation.core.models import Job
from moderation.scans.models import Scan
from tests.support.factories import GenerationFactory, ScanFactory

pytestmark = pytest.mark.django_db


def test_both_kinds_are_registered_jobs_with_the_same_fields() -> None:
    assert {k.name: k.model for k in job_kinds()} == {"scan": Scan, "generation": Generation}
    shared = {f.name for f in Job._meta.get_fields()}
    for model in (Scan, Generation):
        assert issubclass(model, Job)
        assert shared <= {f.name for f in model._meta.get_fields()}
    assert "completed_at" in shared and not hasattr(Generation(), "finished_at")


@pytest.mark.parametrize("name", ["scan", "generation"])
def test_a_failure_stores_the_code_cut_to_its_column_for_either_kind(name: str) -> None:
    # Before the shared lifecycle only generations cut the code; a scan's 65+ character code broke
    # its save on PostgreSQL (varchar(64)).
    job = (
        ScanFactory(status=Scan.Status.PROCESSING)
        if name == "scan"
        else GenerationFactory(status="processing")
    )
    job_fail(job_kind(name), job, "x" * 100, "m" * 3000)
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "x" * 64 and len(job.error_message) == 2000
    assert job.completed_at is not None


@pytest.mark.parametrize("name", ["scan", "generation"])
def test_the_sweep_sees_a_stale_queued_job_of_either_kind(name: str) -> None:
    queued = {"status": "queued", "progress_percent": 0}
    job = ScanFactory(mode=Scan.Mode.ASYNC, **queued) if name == "scan" else GenerationFactory(**queued)
    type(job).objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=1))
    kind = job_kind(name)
    assert job_stranded_ids(kind, cutoff=timezone.now() - timedelta(minutes=5), limit=10) == [job.pk]
    assert job_stranded_ids(kind, cutoff=timezone.now() - timedelta(hours=2), limit=10) == []
