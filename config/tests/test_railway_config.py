"""Railway config as code (railway.json, railway.worker.json, railway.beat.json) is valid
against Railway's documented keys and agrees with the Dockerfile and the Procfile.

The schema below is written from Railway's config-as-code reference (docs.railway.com,
"Config as Code" → "Configurable settings"): every key it documents for ``build`` and
``deploy``, their types and allowed values, and ``environments.<name>`` overrides. No key the
reference does not document is accepted, so a typo (``healthCheckPath``) fails here rather
than being silently ignored by Railway.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]

NULLABLE_STRING = {"type": ["string", "null"]}
SECONDS = {"type": ["string", "integer", "null"], "pattern": r"^\d+$", "minimum": 0}

BUILD = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "builder": {"enum": ["RAILPACK", "DOCKERFILE", "NIXPACKS"]},
        "watchPatterns": {"type": "array", "items": {"type": "string"}},
        "buildCommand": NULLABLE_STRING,
        "dockerfilePath": NULLABLE_STRING,
        "railpackVersion": NULLABLE_STRING,
        "nixpacksConfigPath": NULLABLE_STRING,
        "nixpacksPlan": {"type": ["object", "null"]},
        "nixpacksVersion": NULLABLE_STRING,
    },
}
DEPLOY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "startCommand": NULLABLE_STRING,
        "preDeployCommand": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "multiRegionConfig": {
            "type": ["object", "null"],
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"numReplicas": {"type": "integer", "minimum": 0}},
            },
        },
        "healthcheckPath": {"type": ["string", "null"], "pattern": "^/"},
        "healthcheckTimeout": {"type": ["integer", "null"], "minimum": 1},
        "restartPolicyType": {"enum": ["ON_FAILURE", "ALWAYS", "NEVER"]},
        "restartPolicyMaxRetries": {"type": ["integer", "null"], "minimum": 0},
        "cronSchedule": NULLABLE_STRING,
        "overlapSeconds": SECONDS,
        "drainingSeconds": SECONDS,
    },
}
RAILWAY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "$schema": {"const": "https://railway.com/railway.schema.json"},
        "build": BUILD,
        "deploy": DEPLOY,
        "environments": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"build": BUILD, "deploy": DEPLOY},
            },
        },
    },
}

SERVICES = {"web": "railway.json", "worker": "railway.worker.json", "beat": "railway.beat.json"}


def _config(service: str) -> dict:
    return json.loads((ROOT / SERVICES[service]).read_text())


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def _unwrap(command: str) -> str:
    """A Dockerfile service's start command runs in exec form (no shell): where the Procfile's
    needs a shell (variables, &&), Railway's wraps it in /bin/sh -c "exec ..."."""
    words = shlex.split(command)
    if words[:2] == ["/bin/sh", "-c"]:
        return re.sub(r"^exec ", "", words[2])
    return command


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_file_uses_only_documented_keys(service):
    jsonschema.validate(_config(service), RAILWAY_SCHEMA)


def test_the_schema_refuses_what_railway_would_not_understand():
    for wrong in (
        {"deploy": {"healthCheckPath": "/healthz"}},
        {"deploy": {"restartPolicyType": "on-failure"}},
        {"deploy": {"preDeployCommand": "python manage.py migrate"}},
        {"build": {"builder": "DOCKER"}},
        {"services": []},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, RAILWAY_SCHEMA)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_builds_the_one_dockerfile(service):
    build = _config(service)["build"]
    assert build == {"builder": "DOCKERFILE", "dockerfilePath": "Dockerfile"}
    assert (ROOT / build["dockerfilePath"]).is_file()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_start_commands_are_the_procfiles(service):
    start = _config(service)["deploy"]["startCommand"]
    assert _unwrap(start) == _procfile()[service]
    # Exec form: a variable or && outside a shell would reach the program literally.
    if not start.startswith("/bin/sh -c "):
        assert "$" not in start and "&&" not in start


def test_the_web_start_command_is_the_dockerfiles_cmd():
    cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert cmd, "the Dockerfile has an exec-form CMD"
    assert " ".join(json.loads(cmd.group(1))) == _config("web")["deploy"]["startCommand"]


def test_the_release_step_runs_before_each_web_deploy_only():
    """Railway never runs the Procfile's release line: the web service's pre-deploy command is
    it (migrations, then the Stripe webhook endpoint row). Worker and beat do not migrate."""
    [pre_deploy] = _config("web")["deploy"]["preDeployCommand"]
    assert _unwrap(pre_deploy) == _procfile()["release"]
    for service in ("worker", "beat"):
        assert "preDeployCommand" not in _config(service)["deploy"]


def test_web_is_health_checked_on_the_health_endpoint_and_restarted():
    deploy = _config("web")["deploy"]
    assert deploy["healthcheckPath"] == "/healthz"
    assert deploy["restartPolicyType"] in ("ON_FAILURE", "ALWAYS")
    for service in ("worker", "beat"):
        assert _config(service)["deploy"]["healthcheckPath"] is None  # no HTTP server
        assert _config(service)["deploy"]["restartPolicyType"] == "ALWAYS"


HEALTH_PROBE = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="healthcheck.railway.app")
print(response.status_code, response.headers.get("Location", ""))
"""


@pytest.mark.django_db
def test_railways_health_checker_gets_200_from_production_settings(settings):
    """Production settings with docs/railway.md's DJANGO_ALLOWED_HOSTS: Railway's checker
    (plain HTTP, Host healthcheck.railway.app) gets 200, neither a 400 nor the HTTPS redirect."""
    database = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_TESTING", "DJANGO_DEBUG")}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="railway-probe-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="relay.up.railway.app,healthcheck.railway.app",
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        STRIPE_TEST_SECRET_KEY="sk_test_railwayprobe000000000000000000",
        DJANGO_LOG_LEVEL="WARNING",
    )
    probe = subprocess.run(  # noqa: S603  (our own interpreter and a constant script)
        [sys.executable, "-c", HEALTH_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert probe.stdout.split() == ["200"], probe.stdout + probe.stderr


def test_the_guide_names_the_files_commands_and_database_variables():
    guide = (ROOT / "docs" / "railway.md").read_text()
    for needed in (
        "/railway.worker.json",
        "/railway.beat.json",
        "${{Postgres.DATABASE_URL}}",
        "${{Redis.REDIS_URL}}",
        "healthcheck.railway.app",
        "DJANGO_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "EMAIL_URL",
    ):
        assert needed in guide, needed
