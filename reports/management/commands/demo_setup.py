"""``python manage.py demo_setup``: what `make run` prints: a demo admin login and a demo platform key.

It also makes a demo moderator for the staff console (``/console/``) and, on the first run, a few
real scans, reports and an appeal so that the console is not empty.

The credentials stay the same from one run to the next: they are derived from a random secret
made on the first run and kept in ``DEMO_SECRET_FILE`` (default ``.fakeme-demo-secret`` beside
``manage.py``, git-ignored, readable by its owner only). ``DEMO_ADMIN_PASSWORD`` and
``DEMO_MODERATOR_PASSWORD`` override the derived passwords (and are then not printed). Delete the
secret file for new credentials: the next run then revokes the old demo key and prints new ones.
A demo key revoked in the admin stays revoked; the run says so. Refuses to run with DEBUG off.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.core.auth import api_key_derive
from moderation.core.models import ApiKey, Platform
from moderation.core.platforms import api_key_create, api_key_revoke, platform_create
from moderation.provenance.credentials import signing_identity
from reports.console.demo import demo_content_create

DEMO_PLATFORM = "demo"
DEMO_KEY_NAME = "make run"
DEMO_MODERATOR = "moderator"


def demo_secret(path: Path) -> tuple[bytes, bool]:
    """The local demo secret, made on first use (mode 0600); (secret, made now)."""
    if path.is_file():
        return bytes.fromhex(path.read_text().strip()), False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as out:
        out.write(secret.hex() + "\n")
    return secret, True


def _derived_password(secret: bytes, who: str) -> str:
    return hmac.new(secret, f"password:{who}".encode(), hashlib.sha256).hexdigest()[:20]


def _user(username: str, password: str, *, superuser: bool) -> AbstractBaseUser:
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff, user.is_superuser = True, superuser
    if superuser and not user.email:
        user.email = "admin@localhost"
    if not user.check_password(password):
        user.set_password(password)
    user.save()
    return user


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin user and a demo platform API key, and print them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="The port `make run` serves on.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_setup is for the embedded mode (DEBUG=True) only")
        secret_file = Path(os.environ.get("DEMO_SECRET_FILE") or settings.BASE_DIR / ".fakeme-demo-secret")
        secret, made = demo_secret(secret_file)

        admin_env = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        password = admin_env or _derived_password(secret, "admin")
        _user("admin", password, superuser=True)
        moderator_env = os.environ.get("DEMO_MODERATOR_PASSWORD", "")
        moderator_password = moderator_env or _derived_password(secret, DEMO_MODERATOR)
        _user(DEMO_MODERATOR, moderator_password, superuser=False)  # staff, not superuser

        platform = Platform.objects.filter(name=DEMO_PLATFORM).first() or platform_create(name=DEMO_PLATFORM)
        derived = api_key_derive(secret, DEMO_PLATFORM)
        key = ApiKey.objects.filter(platform=platform, key_hash=derived.key_hash).first()
        key_note = "kept"
        if key is None:
            # keys of an earlier secret (or from before keys were kept) stop working
            for old in platform.api_keys.filter(name=DEMO_KEY_NAME, revoked_at__isnull=True):
                api_key_revoke(api_key=old)
            key, _ = api_key_create(platform=platform, name=DEMO_KEY_NAME, generated=derived)
            key_note = "new"
        elif key.revoked_at is not None:
            key_note = f"REVOKED in the admin: delete {secret_file} for new demo credentials"
        raw = derived.raw

        demo = demo_content_create(platform=platform)
        content = (
            f"skipped: {demo.skipped}"
            if demo.skipped
            else f"{demo.scans} scans, {demo.reports} reports, {demo.appeals} appeal"
        )

        base = f"http://127.0.0.1:{options['port']}"
        shown_admin = "(from DEMO_ADMIN_PASSWORD)" if admin_env else password
        shown_moderator = "(from DEMO_MODERATOR_PASSWORD)" if moderator_env else moderator_password
        kept = (
            f"new, derived from {secret_file} (made now)"
            if made
            else f"the same as the last run, derived from {secret_file} (delete it for new ones)"
        )
        signing = self._signing_note()
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Admin:        {base}/admin/   user admin   password {shown_admin}",
                    f"  Console:      {base}/console/   user {DEMO_MODERATOR}   password {shown_moderator}",
                    f"  Demo content: {content}",
                    f"  API docs:     {base}/api/docs/",
                    f"  Demo API key: {raw} ({key_note})",
                    f"  Credentials:  {kept}",
                    f"  Signing:      {signing}",
                    f"  Try:          curl -H 'Authorization: Bearer {raw}' \\\n"
                    f"                     -F media=@photo.jpg {base}/api/v1/scans",
                    "",
                ]
            )
        )

    @staticmethod
    def _signing_note() -> str:
        """Generated images carry signed Content Credentials: say with which certificate."""
        if settings.C2PA_SIGNING_CERT_FILE and settings.C2PA_SIGNING_KEY_FILE:
            return f"Content Credentials signed with {settings.C2PA_SIGNING_CERT_FILE}"
        folder = Path(settings.C2PA_LOCAL_DIR)
        made = not (folder / "signer-chain.pem").is_file()
        signing_identity()
        return (
            f"Content Credentials signed with a local self-signed certificate in {folder} "
            f"({'made now' if made else 'reused'}; valid, trusted only where {folder / 'local-ca.pem'} is an "
            "anchor: set C2PA_SIGNING_CERT_FILE and C2PA_SIGNING_KEY_FILE in production)"
        )
