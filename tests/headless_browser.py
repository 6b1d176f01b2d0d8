"""Open a page in headless Chromium (Debian's `chromium`) the way a user would, and report what they would see.

One browser per page, driven over the DevTools protocol with a minimal standard-library websocket client (the
project needs no websocket package): console errors and uncaught exceptions, every network request the page
makes, a screenshot of the first screen and JavaScript evaluated in the page. Shared by the explain and report
tests; skipped locally when chromium is missing, a failure in CI (.ci/run installs it).
"""

import base64
import contextlib
import io
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

from external_tools import require_tool

START_TIMEOUT_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 30
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
    # Any request that leaves the machine goes to a closed port and fails: a page must need none.
    "--proxy-server=127.0.0.1:9",
)


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, client masking, ping, fragmentation."""

    def __init__(self, url, timeout=COMMAND_TIMEOUT_SECONDS):
        rest = url.split("://", 1)[1]
        address, _, path = rest.partition("/")
        host, _, port = address.partition(":")
        self.socket = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        request = (
            f"GET /{path} HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.socket.sendall(request.encode("ascii"))
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the websocket handshake")
            response += chunk
        header, _, self.pending = response.partition(b"\r\n\r\n")
        if b" 101 " not in header.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"websocket handshake refused: {header.decode('latin-1')}")

    def send(self, text):
        payload = text.encode("utf-8")
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 2**16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        masked = bytes(byte ^ mask[position % 4] for position, byte in enumerate(payload))
        self.socket.sendall(header + mask + masked)

    def _read_exactly(self, count):
        while len(self.pending) < count:
            chunk = self.socket.recv(max(65536, count - len(self.pending)))
            if not chunk:
                raise ConnectionError("DevTools closed the websocket")
            self.pending += chunk
        data, self.pending = self.pending[:count], self.pending[count:]
        return data

    def receive(self):
        """The next complete text message."""
        parts = []
        while True:
            first, second = self._read_exactly(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exactly(8))
            mask = self._read_exactly(4) if second & 0x80 else None
            payload = self._read_exactly(length)
            if mask:
                payload = bytes(byte ^ mask[position % 4] for position, byte in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode == 0x9:  # ping: answer with the same payload
                self.socket.sendall(struct.pack("!BB", 0x8A, 0x80 | len(payload)) + b"\0\0\0\0" + payload)
                continue
            if opcode in (0x1, 0x2, 0x0):
                parts.append(payload)
                if first & 0x80:
                    return b"".join(parts).decode("utf-8")

    def close(self):
        with contextlib.suppress(OSError):
            self.socket.close()


class Page:
    """A page loaded in headless Chromium: what it logged, what it fetched, what it shows."""

    def __init__(self, socket_url):
        self.websocket = WebSocket(socket_url)
        self.next_id = 0
        self.events = []

    def command(self, method, **params):
        self.next_id += 1
        message_id = self.next_id
        self.websocket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + COMMAND_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            message = json.loads(self.websocket.receive())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no answer to {method} within {COMMAND_TIMEOUT_SECONDS} s")

    def wait_for_event(self, method, timeout=COMMAND_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        seen = len(self.events)
        while time.monotonic() < deadline:
            for event in self.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(self.events)
            message = json.loads(self.websocket.receive())
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {method} within {timeout} s")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises are awaited); exceptions raise."""
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return result["result"].get("value")

    @property
    def errors(self):
        """Console errors, failed assertions, uncaught exceptions and browser errors (failed loads), as text."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(arg.get("value", arg.get("description", ""))) for arg in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description") or details.get("text", ""))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    @property
    def requests(self):
        """URLs the page requested beyond itself (data: URIs are inline, not requests)."""
        urls = [
            event["params"]["request"]["url"]
            for event in self.events
            if event["method"] == "Network.requestWillBeSent"
        ]
        return [url for url in urls[1:] if not url.startswith(("data:", "about:"))]

    def screenshot(self):
        """The first screen (the viewport) as a Pillow image."""
        from PIL import Image

        data = self.command("Page.captureScreenshot", format="png")["data"]
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")

    def close(self):
        self.websocket.close()


def is_blank(image, threshold=2.0):
    """True when a screenshot is (nearly) one colour: the pixel standard deviation is below `threshold`."""
    from PIL import ImageStat

    return ImageStat.Stat(image.convert("L")).stddev[0] < threshold


def _devtools_port(profile, process):
    marker = pathlib.Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"chromium exited with code {process.returncode} before DevTools started")
        if marker.is_file():
            lines = marker.read_text().splitlines()
            if lines and lines[0].isdigit():
                return int(lines[0])
        time.sleep(0.1)
    raise TimeoutError(f"chromium did not open its DevTools port within {START_TIMEOUT_SECONDS} s")


def _page_socket_url(port):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
            targets = json.loads(response.read())
        pages = [target for target in targets if target.get("type") == "page"]
        if pages:
            return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise TimeoutError("chromium opened no page")


@contextlib.contextmanager
def open_page(path, size=(1280, 900), settle_seconds=0.3):
    """Yield a Page with `path` (a local file) loaded, its load event fired and its scripts settled."""
    chromium = require_tool("chromium")
    profile = tempfile.mkdtemp(prefix="edgecnn-chromium-")
    width, height = size
    process = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so its renderers end with it
    )
    page = None
    try:
        port = _devtools_port(profile, process)
        page = Page(_page_socket_url(port))
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.command(f"{domain}.enable")
        page.command("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                     mobile=False)
        page.command("Page.navigate", url=pathlib.Path(path).resolve().as_uri())
        page.wait_for_event("Page.loadEventFired")
        # Let timers and animation frames queued at load run before anyone looks.
        page.evaluate(
            f"new Promise(done => requestAnimationFrame(() => setTimeout(done, {int(settle_seconds * 1000)})))"
        )
        yield page
    finally:
        if page is not None:
            page.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)


def check_page(path, size=(1280, 900)):
    """Open `path` and return (errors, requests, screenshot): what every page test asserts on."""
    with open_page(path, size) as page:
        return page.errors, page.requests, page.screenshot()
