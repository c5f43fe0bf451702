"""Production settings: served over https the secure settings are on by themselves and
`manage.py check --deploy` has nothing to say; the demo's secret key is refused."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DEBUG": "0", "ALLOWED_HOSTS": "helpdesk.example"}


def run(args: list[str], env: dict, tmp_path) -> subprocess.CompletedProcess:
    """A fresh interpreter with only the given environment (and a scratch VAR_DIR): no
    setting of this run's, and nothing another test set (Playwright's async switch)."""
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env}
    clean.update(DJANGO_SETTINGS_MODULE="helpdesk.settings", VAR_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, *args], env=clean, cwd=ROOT, capture_output=True, text=True
    )


def read(env: dict, tmp_path, *names: str) -> dict:
    script = (
        "import json, django; from django.conf import settings; django.setup();"
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    done = run(["-c", script], env, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def key() -> str:
    return secrets.token_urlsafe(50)


def test_check_deploy_is_clean_when_served_over_https(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": key(), "SITE_URL": "https://helpdesk.example"}
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_over_plain_http_check_deploy_names_what_is_missing(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": key(), "SITE_URL": "http://helpdesk.example"}
    done = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert done.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in done.stderr


def test_https_turns_on_hsts_the_redirect_and_secure_cookies(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": key(), "SITE_URL": "https://helpdesk.example/"}
    found = read(
        env,
        tmp_path,
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_PROXY_SSL_HEADER",
    )
    assert found["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert found["SECURE_SSL_REDIRECT"] and found["SESSION_COOKIE_SECURE"]
    assert found["CSRF_COOKIE_SECURE"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["https://helpdesk.example"]
    assert found["SECURE_PROXY_SSL_HEADER"] is None  # trusting a header is said explicitly


def test_the_hsts_age_the_proxy_header_and_secure_are_configurable(tmp_path):
    env = {
        **PRODUCTION,
        "SECRET_KEY": key(),
        "SITE_URL": "http://helpdesk.example",  # as the proxy sees it
        "SECURE": "1",
        "SECURE_HSTS_SECONDS": "3600",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
    }
    found = read(env, tmp_path, "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER")
    assert found["SECURE_HSTS_SECONDS"] == 3600
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_demo_secret_key_is_refused_in_production(tmp_path):
    done = run(["manage.py", "check"], {**PRODUCTION, "SITE_URL": "https://x.example"}, tmp_path)
    assert done.returncode != 0
    assert "DEBUG=0 needs a SECRET_KEY of its own" in done.stderr


@pytest.mark.django_db
@override_settings(
    SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")
)
def test_behind_the_proxy_http_is_redirected_and_its_https_is_believed(client):
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    forwarded = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert forwarded.status_code == 200
