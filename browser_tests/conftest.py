"""The browser suite: Playwright for Python driving Debian's ``chromium`` against a live server.

One browser per test session; one context (cookies, viewport) per test. Every test runs at
both sizes through the ``viewport`` parameter. Each page a test visits through ``Browser.goto``
(or ``Browser.check``) is checked the same way: no console error, no failed request, no
Content-Security-Policy violation, no horizontal scroll at phone width, no serious or critical
axe-core violation, and a screenshot saved under ``var/screenshots/`` (git-ignored; CI keeps it
as an artifact).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import (
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

from accounts.tests.factories import DEFAULT_PASSWORD

CHROMIUM = os.environ.get("BROWSER_TESTS_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("BROWSER_TESTS_SCREENSHOTS", ROOT / "var" / "screenshots"))
# Playwright's sync API keeps an event loop on the main thread, where the tests also use the
# database; Django would refuse every query. This suite runs in its own pytest process
# (scripts/test), so the switch does not reach the other tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")

VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}

# Reports every CSP violation to the test (an init script is not itself subject to the page's CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || ""}:${event.lineNumber || ""}`);
});
"""


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def chromium(playwright_instance: Playwright) -> Iterator[PlaywrightBrowser]:
    """One headless Chromium for the whole session (the Debian package, never a download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium package")
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Browser:
    """One person's browser: a page plus the problems seen on it since the last check."""

    page: Page
    base_url: str
    viewport: str
    test_name: str
    problems: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)
    shots: int = 0

    # --- navigation -------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def goto(
        self,
        path: str,
        *,
        status: int = 200,
        name: str | None = None,
        axe: bool = True,
        ready: str | None = None,
        blocked_by_policy: tuple[str, ...] = (),
    ) -> Response | None:
        """Opens ``path``, asserts its status, waits for the ``ready`` selector when given (pages
        that render after the load event), then checks the page (see ``check``; ``axe=False``
        and ``blocked_by_policy`` only for the vendored API docs UIs, whose code is not ours)."""
        self.allowed_statuses = {status} if status >= 400 else set()
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status == status, f"{path}: {response.status}, expected {status}"
        if ready:
            self.page.wait_for_selector(ready, state="attached")
        self.check(name or path, axe=axe, blocked_by_policy=blocked_by_policy)
        return response

    @property
    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    # --- checks ---------------------------------------------------------------------------------
    def check(self, name: str, *, axe: bool = True, blocked_by_policy: tuple[str, ...] = ()) -> None:
        """Asserts the page as it is now: nothing failed, nothing blocked, nothing too wide, no
        serious accessibility violation; saves a screenshot. ``blocked_by_policy`` names
        outside addresses a vendored bundle asks for and our CSP is meant to refuse: those
        refusals (and only those) are expected, not problems."""
        self.page.wait_for_load_state("load")
        self.screenshot(name)
        violations = self.page.evaluate("window.__cspViolations || []")
        problems = self.problems + [f"CSP violation: {v}" for v in violations]
        problems = [p for p in problems if not any(url in p for url in blocked_by_policy)]
        self.problems.clear()
        self.page.evaluate("window.__cspViolations = []")
        assert not problems, f"{name}: {problems}"
        if self.viewport == "phone":
            widths = self.page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], f"{name}: page is {widths[0]} px wide on a {widths[1]} px screen"
        if axe:
            self.assert_accessible(name)
        self.allowed_statuses = set()

    def assert_accessible(self, name: str) -> None:
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # evaluate(), not a <script> tag: the page's CSP (rightly) refuses inline scripts.
            self.page.evaluate(AXE_SOURCE)
        found = self.page.evaluate(
            """async () => {
              const result = await axe.run(document, {resultTypes: ["violations"]});
              return result.violations
                .filter((v) => v.impact === "serious" || v.impact === "critical")
                .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3)
                  .map((n) => n.target.join(" ")).join(", ")}`);
            }"""
        )
        assert not found, f"{name}: accessibility violations: {found}"

    def screenshot(self, name: str) -> None:
        self.shots += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "root"
        folder = SCREENSHOTS / self.test_name
        folder.mkdir(parents=True, exist_ok=True)
        # JPEG: encoding a full-page PNG took about as long as the page's accessibility check.
        path = folder / f"{self.shots:02d}-{slug}.jpg"
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=75)

    # --- listeners ------------------------------------------------------------------------------
    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        # A page answering an expected error status logs that status as a console error.
        if self.allowed_statuses and "status of" in text:
            return
        self.problems.append(f"console error: {text}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and response.status not in self.allowed_statuses:
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")

    def on_request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # cut short by the next navigation (or a download), not failed
        self.problems.append(f"request failed: {request.method} {request.url} ({failure})")

    # --- people -----------------------------------------------------------------------------
    def log_in(self, email: str, password: str = DEFAULT_PASSWORD) -> None:
        self.goto("/accounts/login/")
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign In", exact=True).click()
        self.page.wait_for_load_state("load")
        self.check(f"after login {email}")

    def submit(self, button: str, *, name: str | None = None) -> None:
        """Clicks the button named ``button`` and checks the page it leads to."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button, exact=True).first.click()
        self.check(name or f"after {button}")

    def text(self) -> str:
        return self.page.inner_text("body")


@pytest.fixture
def browser(
    chromium: PlaywrightBrowser,
    live_server: Any,
    viewport: str,
    request: pytest.FixtureRequest,
    settings: Any,
) -> Iterator[Browser]:
    """A fresh browser context at ``viewport`` size pointed at the live server."""
    # Links in e-mails point at the live server, as they point at SITE_URL in production.
    settings.SITE_URL = live_server.url
    context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="en-US", timezone_id="UTC")
    context.add_init_script(CSP_LISTENER)
    context.set_default_timeout(15_000)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_.\[\]-]+", "-", request.node.name)
    handle = Browser(page=page, base_url=live_server.url, viewport=viewport, test_name=name)
    page.on("console", handle.on_console)
    page.on("pageerror", lambda error: handle.problems.append(f"page error: {error}"))
    page.on("response", handle.on_response)
    page.on("requestfailed", handle.on_request_failed)
    try:
        yield handle
    finally:
        context.close()


@pytest.fixture(autouse=True)
def _browser_settings(settings: Any) -> None:
    """The live server runs in this process, so test settings reach it."""
    assert django_settings.TESTING
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]


@pytest.fixture
def stand_in(stripe_local: Any, settings: Any) -> Any:
    """The Stripe stand-in for this test, its hosted pages allowed as form targets like Stripe's."""
    policy = {**settings.CONTENT_SECURITY_POLICY}
    directives = {**policy["DIRECTIVES"]}
    directives["form-action"] = [*directives["form-action"], stripe_local.base_url]
    policy["DIRECTIVES"] = directives
    settings.CONTENT_SECURITY_POLICY = policy
    return stripe_local
