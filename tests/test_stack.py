"""The install works: CPU torch, patched torchvision, facenet-pytorch, timm, Django, services."""

from __future__ import annotations

import os
from importlib import metadata

import numpy as np
import pytest
import torch


def test_torch_is_the_cpu_build() -> None:
    assert torch.__version__.split("+")[0] == "2.13.0"
    assert torch.version.cuda is None
    assert not torch.cuda.is_available()
    names = {d.metadata["Name"] for d in metadata.distributions()}
    cuda_wheels = sorted(n for n in names if n.lower().startswith("nvidia-"))
    assert cuda_wheels == [], f"CUDA wheels installed: {cuda_wheels}"


def test_torchvision_nms() -> None:
    from torchvision.ops import batched_nms, nms

    boxes = torch.tensor(
        [
            [0.0, 0.0, 10.0, 10.0],
            [1.0, 1.0, 11.0, 11.0],  # IoU 0.68 with box 0
            [20.0, 20.0, 30.0, 30.0],
            [0.5, 0.5, 10.5, 10.5],  # overlaps box 0, higher score than box 0
        ]
    )
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    assert nms(boxes, scores, iou_threshold=0.5).tolist() == [3, 2]
    assert nms(boxes, scores, iou_threshold=0.9).tolist() == [3, 0, 1, 2]
    # Same boxes in different classes never suppress each other.
    idxs = torch.tensor([0, 1, 0, 0])
    assert batched_nms(boxes, scores, idxs, iou_threshold=0.5).tolist() == [3, 1, 2]


def test_mtcnn_runs() -> None:
    from facenet_pytorch import MTCNN
    from PIL import Image

    mtcnn = MTCNN(keep_all=True, device="cpu")
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (160, 160, 3), dtype=np.uint8))
    boxes, probs = mtcnn.detect(image)
    assert boxes is None or np.asarray(boxes, dtype=np.float32).shape[1] == 4


def test_timm_efficientnetv2_s() -> None:
    import timm

    model = timm.create_model("efficientnetv2_s", pretrained=False, num_classes=1).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 1)


def test_django_check() -> None:
    from django.core.management import call_command

    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_database_is_postgres_when_configured() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("DATABASE_URL is not a postgres URL: running on the default SQLite database")
    from django.db import connection

    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_redis_ping_when_configured() -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: no Redis configured")
    import redis

    assert redis.Redis.from_url(url, socket_timeout=5).ping() is True
