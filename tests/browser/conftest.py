"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Chromium comes from the system (`apt-get install chromium`), never downloaded. Without it these
tests skip, unless REQUIRE_BROWSER=1 (CI sets it) turns a missing browser into an error.
Screenshots of each step go to test-output/<test name>/.
"""

import os
import re
from pathlib import Path

import pytest

from prime_now.settings import env_bool
from prime_now.storefront import memo

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 375, "height": 667}  # a small phone: what "mobile first" is measured at
DESKTOP = {"width": 1280, "height": 900}


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real Chromium (tests/browser)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if env_bool("REQUIRE_BROWSER"):
            pytest.fail(
                f"REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install chromium)"
            )
        pytest.skip(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of one test's steps: test-output/<test>/01-home.png, ..."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.folder = OUTPUT / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _open_page(chromium, request, **context_options):
    context = chromium.new_context(**context_options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []
    page.on(
        "console",
        lambda msg: msg.type == "error" and page.console_errors.append(msg.text),
    )
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def page(chromium, live_server, request):
    """A fresh browser tab at phone width; strict CSP is enforced (no bypass)."""
    context, tab = _open_page(chromium, request, viewport=PHONE, base_url=live_server.url)
    yield tab
    context.close()


@pytest.fixture
def shots(page, request):
    return Shots(page, request.node.name)


@pytest.fixture
def axe_page(chromium, live_server, request):
    """A tab for the accessibility check: CSP bypassed only so axe-core can be injected."""
    if not AXE.exists():
        if env_bool("REQUIRE_BROWSER"):
            pytest.fail(f"{AXE} is missing: run `make browser-tools` (npm ci in tests/browser)")
        pytest.skip("needs axe-core: `make browser-tools` (npm ci in tests/browser)")
    context, tab = _open_page(
        chromium,
        request,
        viewport={"width": 1280, "height": 900},
        base_url=live_server.url,
        bypass_csp=True,
    )
    yield tab
    context.close()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert result["passes"], "axe-core ran no rule: was it injected?"
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@pytest.fixture(autouse=True)
def _fresh_memo():
    """Each test starts with the storefront's in-process memo empty (like a fresh worker)."""
    memo.forget_all()
    yield
    memo.forget_all()
