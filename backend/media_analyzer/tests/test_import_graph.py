"""The apps import one way only: streaming <- ai_processing <- exposure <- api. An app may
import the apps to its left, which it builds on, never one to its right; a hand-off downstream
goes through a hook (media_analyzer.hooks). Function-level imports count too: they hide the
dependency, they do not remove it."""

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]
APPS = ("streaming", "ai_processing", "exposure", "api")  # each builds on those before it
PROJECT = "media_analyzer"
# The project package holds what every app uses (settings, events, pools, metrics, hooks);
# only the modules that wire the apps together may import them.
PROJECT_WIRING = {"asgi", "celery", "lifespan", "routing", "urls"}
NOT_CHECKED = {"tests", "migrations"}


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every import anywhere in the source; relative imports stay
    inside their own package, so they are left out."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def forbidden(package: str, module_stem: str) -> set[str]:
    """The apps that a module of `package` must not import."""
    if package == PROJECT:
        return set() if module_stem in PROJECT_WIRING else set(APPS)
    return set(APPS[APPS.index(package) + 1 :])


def violations_in(package: str, path: Path, source: str) -> list[str]:
    banned = forbidden(package, path.stem)
    return [
        f"{path.relative_to(BACKEND)}:{line}: {package} imports {module}"
        for line, module in imported_modules(source)
        if module.split(".")[0] in banned
    ]


def checked_files(package: str) -> list[Path]:
    root = BACKEND / package
    return [path for path in sorted(root.rglob("*.py")) if not NOT_CHECKED & set(path.relative_to(root).parts)]


def test_no_app_imports_an_app_to_its_right():
    violations = [
        violation
        for package in (*APPS, PROJECT)
        for path in checked_files(package)
        for violation in violations_in(package, path, path.read_text())
    ]

    assert not violations, "imports against the direction of the apps:\n" + "\n".join(violations)


def test_every_app_and_wiring_module_is_there():
    """A renamed app or module would otherwise leave the rule checking nothing."""
    for package in (*APPS, PROJECT):
        assert checked_files(package), package
    for stem in PROJECT_WIRING:
        assert (BACKEND / PROJECT / f"{stem}.py").exists(), stem


def test_the_check_sees_function_level_and_plain_imports():
    path = BACKEND / "streaming" / "example.py"
    source = (
        "import ai_processing.dispatch\n"
        "from streaming.models import Stream\n"
        "def later():\n"
        "    from exposure.services import exposure_record\n"
    )

    assert violations_in("streaming", path, source) == [
        "streaming/example.py:1: streaming imports ai_processing.dispatch",
        "streaming/example.py:4: streaming imports exposure.services",
    ]
    assert violations_in("api", BACKEND / "api" / "example.py", source) == []
    assert violations_in(PROJECT, BACKEND / PROJECT / "metrics.py", "from streaming.models import X\n")
    assert not violations_in(PROJECT, BACKEND / PROJECT / "urls.py", "from api import urls\n")
