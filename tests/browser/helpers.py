"""Helpers shared by the browser tests: starting a form, test files, screenshots, axe output."""

from __future__ import annotations

import importlib.util
import os
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

#: Screenshots for people to look at (git-ignored).
ARTIFACTS = ROOT / "test-artifacts"
#: Offending elements listed per axe violation before the list is cut short.
MAX_NODES = 5


def start_form(page: Any, title: str, t: Callable[..., str], audience: str = "Citizen") -> str:
    """From the preview list, start filling the form called ``title``; return the draft URL."""
    page.goto("/preview/")
    card = page.locator("li.card").filter(has=page.get_by_role("heading", name=title,
                                                                  exact=True))
    card.get_by_label(t(audience), exact=True).check()
    # The button reads "<Start> <title>" (the verb is pgettext("button", "Start")).
    card.get_by_role("button", name=re.compile(re.escape(title) + "$")).click()
    page.wait_for_url(re.compile(r"/preview/d/[^/]+/0$"))
    return str(page.url.rsplit("/", 1)[0])


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A small, valid PNG (grey pixels), made here so no file is needed."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        nodes = violation["nodes"]
        for node in nodes[:MAX_NODES]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
        if len(nodes) > MAX_NODES:
            lines.append(f"    ... and {len(nodes) - MAX_NODES} more")
    return "\n".join(lines)


def assert_no_violations(violations: list[dict[str, Any]], where: str) -> None:
    assert not violations, f"axe-core found WCAG 2.1 A/AA violations on {where}:\n" + (
        format_violations(violations))


def axe_script() -> Path | None:
    """axe-core's script: FORMULAR_TEST_AXE (a path to an axe.min.js), else the copy shipped by
    axe-playwright-python (axe-core 4.x) or by axe-selenium-python (axe-core 3.1.1)."""
    override = os.environ.get("FORMULAR_TEST_AXE")
    if override:
        return Path(override)
    for package, inside in [("axe_playwright_python", "axe.min.js"),
                            ("axe_selenium_python", "node_modules/axe-core/axe.min.js")]:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin:
            path = Path(spec.origin).parent / inside
            if path.is_file():
                return path
    return None


def _axe_version() -> tuple[int, ...]:
    script = axe_script()
    if script is None or not script.is_file():
        return (0,)
    with script.open(encoding="utf-8") as handle:
        head = handle.read(4_000)
    found = re.search(r"axe v(\d+)\.(\d+)\.(\d+)|\.version=\"(\d+)\.(\d+)\.(\d+)\"", head)
    return tuple(int(n) for n in found.groups() if n is not None) if found else (0,)


#: The version of the axe-core the tests use, (0,) when there is none or it is not known.
AXE_VERSION = _axe_version()
