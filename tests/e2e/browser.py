"""Headless Chromium driven over the DevTools protocol, for end-to-end tests of AuraStream pages.

Uses the distribution's Chromium (Debian: `apt-get install chromium`) and the `websockets`
package AuraStream already installs with uvicorn[standard], so no browser is downloaded and no
driver binary is needed. One synchronous WebSocket carries every command; events are collected
per page while commands wait for their replies.

    with Browser() as browser:
        page = browser.new_page()
        page.goto("http://127.0.0.1:8000/graphql")
        page.wait_for("document.querySelector('.graphiql-container') !== null")
        assert page.external_requests() == []

Chromium is started in its own process group and stopped by its PID (then that group) when the
`Browser` closes; its profile lives in a new temporary directory, removed afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from websockets.sync.client import ClientConnection, connect

from tests.support import stop_process

CHROMIUM = Path("/usr/bin/chromium")

#: Flags for a quiet, self-contained Chromium: on a closed network, background services'
#: connections are refused and slow the browser down, so they are all switched off.
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--window-size=1280,900",
)
#: With `offline=True`, no host name resolves except localhost: a page that still needs the
#: internet fails the same way here as on a machine without it.
OFFLINE_FLAGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
)

_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome", "chrome-error", "devtools"})


class BrowserError(RuntimeError):
    """Chromium did not start, a DevTools command failed, or page code threw."""


def is_loopback_url(url: str) -> bool:
    """True for URLs that never leave the machine: loopback hosts and data:/blob:/about: URLs."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Request:
    """A request the page sent, as reported by `Network.requestWillBeSent`."""

    url: str
    method: str
    headers: dict[str, str]
    post_data: str | None = None


@dataclass
class Page:
    """One browser tab, attached through a flattened DevTools session."""

    browser: Browser
    target_id: str
    session_id: str
    #: The page's own browser context (cookies, storage), disposed with the page.
    context_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    #: Uncaught exceptions, console.error calls and browser log errors (CSP violations, 404s).
    errors: list[str] = field(default_factory=list)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session_id=self.session_id)

    def record(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            request = params["request"]
            self.requests.append(
                Request(
                    url=request["url"],
                    method=request["method"],
                    headers=dict(request.get("headers", {})),
                    post_data=request.get("postData"),
                )
            )
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(f"uncaught: {description}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            texts = [str(arg.get("value", arg.get("description", ""))) for arg in params["args"]]
            self.errors.append("console.error: " + " ".join(texts))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")

    def goto(self, url: str, timeout: float = 30) -> None:
        """Navigate and wait for the load event."""
        seen = len(self.events)
        reply = self.send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise BrowserError(f"navigation to {url} failed: {reply['errorText']}")
        self.wait_for_event("Page.loadEventFired", timeout=timeout, after=seen)

    def wait_for_event(self, method: str, timeout: float = 30, after: int = 0) -> dict[str, Any]:
        """The first `method` event at or after index `after` of `events`, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events[after:]:
                if event["method"] == method:
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout}s")
            self.browser.pump(min(remaining, 0.1))

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression in the page, returned by value (JSON)."""
        reply = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            description = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"{expression!r} threw: {description}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, interval: float = 0.1) -> Any:
        """Evaluate `expression` until it is truthy and return that value."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self.browser.pump(interval)
        raise TimeoutError(
            f"{expression!r} still {value!r} after {timeout}s; errors: {self.errors}"
        )

    def click(self, selector: str) -> None:
        """Click the first element matching a CSS selector, as a user would (mouse events)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()"
        )
        if box is None:
            raise BrowserError(f"nothing matches {selector!r}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    def external_requests(self) -> list[str]:
        """URLs of requests (DevTools events and resource timing) that left the loopback host."""
        self.browser.pump(0.05)
        timed = self.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name)"
            ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
        )
        urls = [request.url for request in self.requests] + list(timed or [])
        return sorted({url for url in urls if not is_loopback_url(url)})

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.browser.pages.pop(self.session_id, None)
        self.browser.send("Target.closeTarget", {"targetId": self.target_id})
        if self.context_id is not None:
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context_id})


class Browser:
    """A headless Chromium process and one DevTools connection to it."""

    def __init__(
        self,
        executable: Path = CHROMIUM,
        *,
        offline: bool = True,
        extra_flags: tuple[str, ...] = (),
        start_timeout: float = 30,
        command_timeout: float = 30,
    ) -> None:
        self.executable = executable
        self.flags = BASE_FLAGS + (OFFLINE_FLAGS if offline else ()) + extra_flags
        self.start_timeout = start_timeout
        self.command_timeout = command_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.profile: Path | None = None
        self.connection: ClientConnection | None = None
        self.pages: dict[str, Page] = {}
        self._ids = itertools.count(1)
        self._exit_stack = contextlib.ExitStack()

    @staticmethod
    def available(executable: Path = CHROMIUM) -> bool:
        return executable.is_file() and os.access(executable, os.X_OK)

    def __enter__(self) -> Browser:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def log_path(self) -> Path | None:
        return None if self.profile is None else self.profile / "chromium.log"

    def start(self) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="aurastream-chromium-"))
        user_data = self.profile / "user-data"
        command = [
            str(self.executable),
            *self.flags,
            f"--user-data-dir={user_data}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        assert self.log_path is not None
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for the final clean-up
            )
        port, path = self._wait_for_devtools(user_data / "DevToolsActivePort")
        sock = socket.create_connection(("127.0.0.1", port), timeout=self.start_timeout)
        # An explicit socket: no proxy from the environment gets between us and Chromium.
        self.connection = self._exit_stack.enter_context(
            connect(
                f"ws://127.0.0.1:{port}{path}",
                sock=sock,
                max_size=None,
                compression=None,
                open_timeout=self.start_timeout,
            )
        )

    def _wait_for_devtools(self, active_port: Path) -> tuple[int, str]:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited with {self.process.returncode}: {self.log()}")
            with contextlib.suppress(FileNotFoundError):
                lines = active_port.read_text().splitlines()
                if len(lines) >= 2:
                    return int(lines[0]), lines[1]
            time.sleep(0.05)
        raise BrowserError(f"chromium gave no DevTools port in {self.start_timeout}s: {self.log()}")

    def log(self) -> str:
        """Chromium's own output (the last 4,000 characters), for failure messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session_id: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one DevTools command and wait for its reply, collecting events meanwhile."""
        if self.connection is None:
            raise BrowserError("the browser is not running")
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        self.connection.send(json.dumps(message))
        deadline = time.monotonic() + (timeout or self.command_timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no reply to {method} within {timeout or self.command_timeout}s"
                )
            reply = self._receive(remaining)
            if reply is None or reply.get("id") != message_id:
                continue
            if "error" in reply:
                raise BrowserError(f"{method} failed: {reply['error']}")
            result: dict[str, Any] = reply.get("result", {})
            return result

    def pump(self, duration: float) -> None:
        """Collect events for `duration` seconds."""
        deadline = time.monotonic() + duration
        while (remaining := deadline - time.monotonic()) > 0:
            self._receive(remaining)

    def _receive(self, timeout: float) -> dict[str, Any] | None:
        """One message, or None after `timeout`; events go to their page."""
        assert self.connection is not None
        try:
            raw = self.connection.recv(timeout=timeout)
        except TimeoutError:
            return None
        message: dict[str, Any] = json.loads(raw)
        if "method" in message:
            page = self.pages.get(message.get("sessionId", ""))
            if page is not None:
                page.record(message)
        return message

    def new_page(self, isolated: bool = True) -> Page:
        """A new tab with the Page, Runtime, Network and Log domains enabled.

        An isolated page gets a browser context of its own, like a private window: no cookies
        or local storage shared with other pages.
        """
        target: dict[str, Any] = {"url": "about:blank"}
        context_id: str | None = None
        if isolated:
            context_id = self.send("Target.createBrowserContext")["browserContextId"]
            target["browserContextId"] = context_id
        target_id = self.send("Target.createTarget", target)["targetId"]
        attached = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})
        page = Page(self, target_id, attached["sessionId"], context_id)
        self.pages[page.session_id] = page
        for domain in ("Page", "Runtime", "Network", "Log"):
            page.send(f"{domain}.enable")
        return page

    @contextlib.contextmanager
    def opened(self, url: str, *ready: str) -> Iterator[Page]:
        """An isolated page at `url`, once every `ready` expression holds; closed afterwards."""
        page = self.new_page(isolated=True)
        try:
            page.goto(url)
            for expression in ready:
                page.wait_for(expression)
            yield page
        finally:
            page.close()

    def close(self) -> None:
        """Stop Chromium by its PID, then anything left in its process group; remove its profile."""
        process, self.process = self.process, None
        if process is not None and self.connection is not None:
            # Asked over DevTools, Chromium shuts its renderer and utility processes down itself.
            with contextlib.suppress(Exception):
                self.send("Browser.close", timeout=5)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.connection = None
        with contextlib.suppress(Exception):
            self._exit_stack.close()  # closes the DevTools connection
        if process is not None:
            stop_process(process)
            # Renderer and utility processes share the group whose id is Chromium's PID.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None


class References(HTMLParser):
    """Every URL the page refers to through src/href, and its <title>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_title = tag == "title"
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False
