"""The one upload check and the one download response for every file the system accepts.

Every upload (application materials, letters of authorisation, inspection attachments) goes
through ``upload_check``, which reads the whole file and decides its type by content; every
download goes through ``download_response``. Images are not re-encoded: trailing data after the
image end is refused instead, so the stored bytes are exactly the uploaded bytes and the recorded
SHA-256 is the one the uploader can reproduce.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import warnings
import zlib
from dataclasses import dataclass
from typing import IO, Any

from django import forms
from django.conf import settings
from django.http import FileResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from core.exceptions import DomainError

PDF_SIGNATURE = b"%PDF-"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
# 40 megapixels: a phone photo is ~12 MP; a 1-bit 20000x20000 PNG of a few KB decodes to 400 MP.
MAX_IMAGE_PIXELS = 40_000_000
# Names that make a PDF run something or carry a file. Checked on parsed objects and, as a backstop
# for what the walk cannot reach (objects outside the catalog tree), on the raw bytes.
PDF_ACTIVE_NAMES = frozenset(
    {"/JavaScript", "/JS", "/OpenAction", "/Launch", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/RichMedia", "/XFA"}
)
_PDF_ACTIVE_RE = re.compile(rb"/(JavaScript|JS|OpenAction|Launch|AA|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])")
_HTML_RE = re.compile(rb"<\s*(script|html|body|iframe|svg)", re.IGNORECASE)
_PDF_MAX_OBJECTS = 100_000
_STREAM_BODY_RE = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)
# A compressed stream may inflate to at most 100 times the file's size (and never past 256 MB):
# a page scanned to a Flate image inflates ~10-90 times, a FlateDecode bomb thousands of times.
PDF_INFLATE_RATIO = 100
PDF_INFLATE_FLOOR = 16 * 1024 * 1024
PDF_INFLATE_CEILING = 256 * 1024 * 1024


class UploadRejectedError(DomainError):
    pass


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    extension: str
    sha256: str
    size: int
    original_name: str


def _reject(code: str, message: str | Promise, name: str) -> UploadRejectedError:
    return UploadRejectedError(code, message, name=name)


def upload_clean_name(name: str | None, *, extension: str) -> str:
    """Basename only, no control/format (bidi) characters, at most 255 characters."""
    raw = (name or "").replace("\\", "/")
    base = os.path.basename(raw)
    base = "".join(ch for ch in base if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"})
    base = base.strip().lstrip(".").strip()
    if len(base) > 255:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 255 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else base[:255]
    return base or f"upload.{extension}"


def _read_all(upload: Any, *, max_bytes: int, name: str) -> bytes:
    upload.seek(0)
    # Read one byte past the limit: ``upload.size`` is what the client claimed.
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if not data:
        raise _reject("file_empty", _("The file %(name)s is empty.") % {"name": name}, name)
    if len(data) > max_bytes:
        raise _reject(
            "file_too_large",
            _("The file %(name)s is larger than %(mb)s MB.") % {"name": name, "mb": max(1, max_bytes // (1024 * 1024))},
            name,
        )
    return data


def _walk_pdf(reader: PdfReader, name: str) -> None:
    """Walk every object reachable from the trailer without decoding any stream's data (so a
    FlateDecode bomb in a content stream is never inflated)."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    count = 0
    while stack:
        obj = stack.pop()
        count += 1
        if count > _PDF_MAX_OBJECTS:
            raise _reject("file_damaged", _("The file %(name)s is damaged or not a valid file.") % {"name": name}, name)
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            stack.append(obj.get_object())
            continue
        if isinstance(obj, DictionaryObject):  # also StreamObject: only its dictionary is looked at
            for k, v in obj.items():
                if str(k) in PDF_ACTIVE_NAMES or (str(k) == "/S" and str(v) in PDF_ACTIVE_NAMES):
                    raise _reject(
                        "file_active_content",
                        _("The file %(name)s contains scripts, actions or attached files.") % {"name": name},
                        name,
                    )
                if str(k) != "/Parent":
                    stack.append(v)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)


def _is_flate(stream: StreamObject) -> bool:
    filters = stream.get("/Filter")
    if filters is None:
        return False
    names = [str(f) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)]
    return "/FlateDecode" in names or "/Fl" in names


def _inflate_bounded(raw: bytes, budget: int) -> bytes | None:
    """At most ``budget`` bytes of the inflated stream; ``None`` when it would be longer."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(raw, budget + 1)
    while inflater.unconsumed_tail and len(out) <= budget:
        out += inflater.decompress(inflater.unconsumed_tail, budget + 1 - len(out))
    return None if len(out) > budget else out


def _check_pdf_streams(reader: PdfReader, size: int, name: str) -> None:
    """Inflate every Flate stream against one budget (the bomb guard), and look inside object
    streams for the names that make a PDF act, which the raw-bytes check cannot see."""
    budget = min(PDF_INFLATE_CEILING, max(PDF_INFLATE_FLOOR, PDF_INFLATE_RATIO * size))
    for ids in reader.xref.values():
        for idnum in ids:
            stream = reader.get_object(idnum)
            if not isinstance(stream, StreamObject) or not _is_flate(stream):
                continue
            inflated = _inflate_bounded(stream._data, budget)
            if inflated is None:
                raise _reject(
                    "file_too_large",
                    _("The file %(name)s expands to more data than a document may hold.") % {"name": name},
                    name,
                )
            budget -= len(inflated)
            if stream.get("/Type") == "/ObjStm" and _PDF_ACTIVE_RE.search(inflated):
                raise _reject(
                    "file_active_content",
                    _("The file %(name)s contains scripts, actions or attached files.") % {"name": name},
                    name,
                )


def _check_pdf(data: bytes, name: str) -> None:
    damaged = _("The file %(name)s is damaged or not a valid PDF file.") % {"name": name}
    # A PDF served by a browser that sniffs must never look like HTML; an end marker followed by
    # anything but whitespace is an appended payload.
    if _HTML_RE.search(data):
        raise _reject("file_active_content", _("The file %(name)s contains HTML or script.") % {"name": name}, name)
    eof = data.rfind(b"%%EOF")
    if eof < 0 or data[eof + 5 :].strip():
        raise _reject("file_damaged", damaged, name)
    # Outside stream bodies (compressed data is binary and may contain any three bytes).
    if _PDF_ACTIVE_RE.search(_STREAM_BODY_RE.sub(b"stream endstream", data)):
        raise _reject(
            "file_active_content",
            _("The file %(name)s contains scripts, actions or attached files.") % {"name": name},
            name,
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            raise _reject("file_damaged", damaged, name)
        if len(reader.pages) == 0:
            raise _reject("file_damaged", damaged, name)
        for page in reader.pages:  # resolves every page dictionary, not its content streams
            page.mediabox  # noqa: B018
        _walk_pdf(reader, name)
        _check_pdf_streams(reader, len(data), name)
    except UploadRejectedError:
        raise
    except Exception as exc:  # pypdf raises many kinds on hostile input; all mean "not a PDF"
        raise _reject("file_damaged", damaged, name) from exc


def _check_image(data: bytes, content_type: str, name: str) -> None:
    damaged = _("The file %(name)s is damaged or not a valid image.") % {"name": name}
    expected = {"image/png": "PNG", "image/jpeg": "JPEG"}[content_type]
    previous = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Pillow raises DecompressionBombError above twice this limit, and the warning (made
            # an error here) above it; both are refusals.
            Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    raise _reject(
                        "file_type_not_allowed",
                        _("The file %(name)s is not a PDF, PNG or JPEG file.") % {"name": name},
                        name,
                    )
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except UploadRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _reject(
            "file_too_many_pixels", _("The image %(name)s has too many pixels.") % {"name": name}, name
        ) from exc
    except Exception as exc:
        raise _reject("file_damaged", damaged, name) from exc
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    if content_type == "image/png":
        end = data.rfind(b"IEND")
        if end < 0 or len(data) != end + 8:  # IEND is followed only by its 4-byte CRC
            raise _reject("file_damaged", damaged, name)
    elif not data.endswith(b"\xff\xd9"):
        raise _reject("file_damaged", damaged, name)


def upload_check(upload: IO[bytes] | Any, *, max_bytes: int) -> CheckedUpload:
    """Read the whole file and decide what it is by content.

    Errors (``UploadRejectedError``): ``file_empty``, ``file_too_large``, ``file_type_not_allowed``,
    ``file_damaged``, ``file_active_content``, ``file_too_many_pixels``. Leaves the file at 0."""
    shown = upload_clean_name(getattr(upload, "name", None), extension="bin")
    data = _read_all(upload, max_bytes=max_bytes, name=shown)
    if data.startswith(PDF_SIGNATURE):
        content_type = "application/pdf"
    elif data.startswith(PNG_SIGNATURE):
        content_type = "image/png"
    elif data.startswith(JPEG_SIGNATURE):
        content_type = "image/jpeg"
    else:
        raise _reject(
            "file_type_not_allowed",
            _("The file %(name)s is not a PDF, PNG or JPEG file (its content was checked, not its name).")
            % {"name": shown},
            shown,
        )
    if content_type == "application/pdf":
        _check_pdf(data, shown)
    else:
        _check_image(data, content_type, shown)
    extension = EXTENSIONS[content_type]
    return CheckedUpload(
        content_type=content_type,
        extension=extension,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        original_name=upload_clean_name(getattr(upload, "name", None), extension=extension),
    )


def upload_store_name(checked: CheckedUpload) -> str:
    """A generated storage name: nothing the uploader chose reaches the file system."""
    return f"{uuid.uuid4().hex}.{checked.extension}"


def download_response(*, file: Any, content_type: str, filename: str) -> FileResponse:
    """The one way a stored file leaves the system: always a download, with its recorded type."""
    response = FileResponse(
        file,
        as_attachment=True,
        filename=filename or "download",
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def minimal_pdf() -> bytes:
    """A real one-page blank PDF, for demo data and tests."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class CheckedFileField(forms.FileField):
    """A form's file slot that runs ``upload_check``: a refused file is an error on its own field,
    before any service runs or anything is stored. ``max_bytes_setting`` names the size limit;
    ``code_prefix`` replaces ``file_`` in the error code (a letter's errors are ``document_*``, as
    its service says)."""

    def __init__(self, *args: Any, max_bytes_setting: str, code_prefix: str = "file_", **kwargs: Any) -> None:
        self.max_bytes_setting = max_bytes_setting
        self.code_prefix = code_prefix
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        upload = super().clean(data, initial)
        if upload:
            try:
                upload_check(upload, max_bytes=getattr(settings, self.max_bytes_setting))
            except UploadRejectedError as exc:
                code = self.code_prefix + exc.code.removeprefix("file_")
                raise forms.ValidationError(exc.message, code=code) from None
        return upload
