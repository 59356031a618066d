"""The development workflow (Makefile, scripts/dev, compose.dev.yaml, the dashboard's dev
proxy, the Docker build context), checked offline: no Docker engine, no cluster."""

import ast
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MAKE = shutil.which("make")
EVERYDAY = {"help", "run", "test", "test-services", "check", "dev", "up", "logs", "down", "restart", "re",
            "kind-up", "kind-load", "kind-apply", "kind-down"}  # fmt: skip


def _help_targets() -> list[str]:
    if MAKE is None:
        return []
    out = subprocess.run(
        [MAKE, "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


HELP_TARGETS = _help_targets()
needs_make = pytest.mark.skipif(MAKE is None and not os.environ.get("CI"), reason="needs make")


def _compose(*args: str, files=("compose.yaml",)) -> subprocess.CompletedProcess:
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "test-only"}
    file_args = [arg for name in files for arg in ("-f", name)]
    return subprocess.run([binary, *file_args, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@needs_make
def test_make_help_lists_every_everyday_command():
    assert EVERYDAY <= set(HELP_TARGETS), EVERYDAY - set(HELP_TARGETS)


@needs_make
@pytest.mark.parametrize("target", HELP_TARGETS)
def test_make_target_dry_runs(target):
    result = subprocess.run([MAKE, "-n", target], cwd=REPO, capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@needs_make
@pytest.mark.parametrize(
    ("target", "command"),
    [
        ("run", "scripts/run"),
        ("test", "scripts/test"),
        ("test-services", "scripts/test --services"),
        ("check", "scripts/check"),
        ("dev", "scripts/dev"),
        ("re", "up -d --build"),
        ("kind-apply", "apply -k var/kind"),
    ],
)
def test_make_target_runs_its_command(target, command):
    out = subprocess.run([MAKE, "-n", target], cwd=REPO, capture_output=True, text=True, timeout=30).stdout

    assert command in out
    script = command.split()[0]
    if script.startswith("scripts/"):
        assert os.access(REPO / script, os.X_OK)


def test_dev_script_parses():
    result = subprocess.run(["bash", "-n", str(REPO / "scripts" / "dev")], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def test_dev_proxy_sends_api_and_sockets_to_the_backend():
    proxy = json.loads((REPO / "frontend" / "proxy.conf.json").read_text())
    angular = json.loads((REPO / "frontend" / "angular.json").read_text())

    assert {"/api", "/admin", "/static", "/ws"} <= set(proxy)
    assert proxy["/ws"]["ws"] is True
    assert {entry["target"] for entry in proxy.values()} == {"http://127.0.0.1:8000"}  # scripts/dev's uvicorn
    serve = angular["projects"]["frontend"]["architect"]["serve"]
    assert serve["options"]["proxyConfig"] == "proxy.conf.json"


def test_compose_is_valid_under_every_profile():
    profiles = _compose("config", "--profiles")
    assert profiles.returncode == 0, profiles.stderr
    assert "batch" in profiles.stdout.split()

    for profile in ["", *profiles.stdout.split()]:
        result = _compose(*(["--profile", profile] if profile else []), "config", "--quiet")
        assert result.returncode == 0, (profile, result.stderr)


def test_dev_override_publishes_postgres_and_redis_on_loopback_only():
    result = _compose(
        "-p", "media-analyzer-dev", "config", "--format", "json", files=("compose.yaml", "compose.dev.yaml")
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]

    for name, target in (("postgres", 5432), ("redis", 6379)):
        ports = services[name]["ports"]
        assert [(port["host_ip"], port["target"]) for port in ports] == [("127.0.0.1", target)]
    # The override adds ports and nothing else: the services stack itself publishes neither.
    base = json.loads(_compose("config", "--format", "json").stdout)["services"]
    assert "ports" not in base["postgres"] and "ports" not in base["redis"]


def test_kind_loads_the_images_compose_builds():
    makefile = (REPO / "Makefile").read_text()
    images = set(re.findall(r"^(?:BACKEND|FRONTEND)_IMAGE := (\S+)$", makefile, re.M))
    built = json.loads(_compose("config", "--format", "json").stdout)["services"]

    assert images == {built["web"]["image"], built["nginx"]["image"]}
    k8s_images = set(
        re.findall(
            r"image: (media-analyzer/\S+)", "".join(path.read_text() for path in (REPO / "k8s" / "base").glob("*.yaml"))
        )
    )
    assert k8s_images == images


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    entries = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    required = {".venv", "var", ".git", "frontend/dist", ".hypothesis", "artifacts", "staticfiles"}
    assert required <= entries, required - entries
    assert "node_modules" in entries or "**/node_modules" in entries or "frontend/node_modules" in entries


@pytest.mark.parametrize("dockerfile", ["backend.Dockerfile", "frontend.Dockerfile"])
def test_dockerfiles_cache_package_downloads(dockerfile):
    text = (REPO / "docker" / dockerfile).read_text()
    installs = [line for line in text.replace("\\\n", " ").splitlines() if re.search(r"pip install|npm ci", line)]

    assert installs and all("--mount=type=cache" in line for line in installs)
    assert "--no-cache-dir" not in text
    # The lockfile or pyproject.toml is installed from before the source is copied in.
    source = "COPY backend " if dockerfile.startswith("backend") else "COPY frontend ./"
    assert text.index("--mount=type=cache") < text.index(source)


def test_tiltfile_builds_the_images_and_names_the_workloads_of_the_manifests():
    """The optional Tiltfile (Starlark, which parses as Python): its images are the ones kind
    loads, and the resources it names are the workloads of k8s/base."""
    tree = ast.parse((REPO / "Tiltfile").read_text())
    makefile = (REPO / "Makefile").read_text()
    images = set(re.findall(r"^(?:BACKEND|FRONTEND)_IMAGE := (\S+)$", makefile, re.M))
    base = "\n".join(path.read_text() for path in sorted((REPO / "k8s" / "base").glob("*.yaml")))
    workloads = set(re.findall(r"^kind: (?:Deployment|StatefulSet)\nmetadata:\n  name: (\S+)", base, re.M))

    loops = [node.iter for node in ast.walk(tree) if isinstance(node, ast.For) and isinstance(node.iter, ast.List)]
    looped = {str(item.value) for names in loops for item in names.elts if isinstance(item, ast.Constant)}

    assert _first_arguments(tree, "docker_build") == images
    assert _first_arguments(tree, "k8s_resource") | looped == workloads


def _first_arguments(tree: ast.AST, function: str) -> set[str]:
    return {
        str(call.args[0].value)
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == function
        if call.args and isinstance(call.args[0], ast.Constant)
    }
