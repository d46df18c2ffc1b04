"""Checking attached files by their content, not by their name or the browser's claim."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

#: Leading bytes of each allowed type.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
DEFAULT_ACCEPT = tuple(SIGNATURES)
DEFAULT_MAX_SIZE = 20 * 1024 * 1024
DEFAULT_MAX_COUNT = 5


def sniff(data: bytes) -> str | None:
    """The content type the bytes really are, among the allowed ones."""
    for content_type, signatures in SIGNATURES.items():
        if any(data.startswith(signature) for signature in signatures):
            return content_type
    return None


#: File name endings of each allowed type. A known ending that names another type (a PNG
#: called ``intyg.pdf``) is refused: whoever opens the file later trusts the name.
EXTENSIONS: dict[str, str] = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "jpe": "image/jpeg", "jfif": "image/jpeg", "gif": "image/gif",
}


def name_fits(filename: str, content_type: str) -> bool:
    """Whether the name's ending agrees with the content (a name without an ending fits; an
    ending of no allowed type does not, so ``scan.exe`` holding a PDF is refused too)."""
    base = safe_filename(filename)
    if "." not in base:
        return True
    return EXTENSIONS.get(base.rsplit(".", 1)[1].lower()) == content_type


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    data: bytes
    sha256: str


def safe_filename(name: str) -> str:
    """A display name without path parts or control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:200] or "file"


def check_file(filename: str, data: bytes, accept: tuple[str, ...], max_size: int
               ) -> tuple[CheckedFile | None, str | None]:
    """The checked file, or the reason (a keyword) it is refused: empty, too-large, type
    (the content is none of the accepted types), name (the name's ending says another type)."""
    if not data:
        return None, "empty"
    if len(data) > max_size:
        return None, "too-large"
    content_type = sniff(data)
    if content_type is None or content_type not in accept:
        return None, "type"
    if not name_fits(filename, content_type):
        return None, "name"
    return CheckedFile(safe_filename(filename), content_type, data,
                       hashlib.sha256(data).hexdigest()), None
