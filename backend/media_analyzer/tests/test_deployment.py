"""Deployment files are validated offline: every Kubernetes overlay renders and matches the
Kubernetes schemas; the compose file is valid for the Compose v2 plugin."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
OVERLAYS = sorted(path.name for path in (REPO / "k8s" / "overlays").iterdir())
CRD_KINDS = {"ScaledObject"}  # KEDA: not in the Kubernetes schemas
KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None and not os.environ.get("CI"), reason="needs kubectl with kustomize")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_validates(overlay, tmp_path):
    rendered = subprocess.run(
        [KUBECTL or "kubectl", "kustomize", str(REPO / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    (tmp_path / "all.yaml").write_text(rendered)

    result = subprocess.run(
        [Path(sys.executable).parent / "kubernetes-validate", "--strict", str(tmp_path / "all.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    problems = [
        line
        for line in result.stdout.splitlines()
        if not line.startswith("INFO") and not any(f"kind {kind} " in line for kind in CRD_KINDS)
    ]
    assert problems == []
    assert "kind: Secret" not in rendered or "replace-me" in rendered  # templates only, never real values


def test_compose_file_is_valid(tmp_path):
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "test-only"}

    result = subprocess.run(
        [binary, "--profile", "batch", "config", "--services"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == {
        "web",
        "ingest",
        "worker-realtime",
        "worker-batch",
        "postgres",
        "redis",
        "nginx",
    }


def test_compose_refuses_to_start_without_secrets():
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD")}

    result = subprocess.run([binary, "config"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode != 0 and "required variable" in result.stderr  # names the missing secret
