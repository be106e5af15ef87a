"""Documents the firm keeps on a matter and shares with the client (an approval notice, a copy of
an RFE, a receipt notice), and the signed, expiring links a client downloads them through.

Upload: PDF, PNG or JPEG only, told by the file's first bytes (not by its name or the browser's
word), at most ``MAX_DOCUMENT_BYTES``; the file is stored under MEDIA_ROOT with a random name,
and the name it came with is kept, sanitised (``document_filename``), for the download. Upload,
share and withdrawal are each one transaction with an audit event.

Links: ``document_token`` signs the document's id and the user's id with the site's SECRET_KEY,
a document-specific salt and the moment it was made; ``document_from_token`` opens it for that
user only, for ``DOCUMENT_LINK_MINUTES``. The caller (the portal) then looks the document up
among the ones its user may see, so a link never widens access."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header

from caseledger.core import audit
from caseledger.core.exceptions import ApplicationError
from caseledger.core.models import User
from caseledger.matters import locks
from caseledger.matters.choices import DocumentKind
from caseledger.matters.exceptions import MatterError
from caseledger.matters.models import Matter, MatterDocument

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 120
MAX_TITLE = 200
# The types a client can open on any phone; told by the first bytes of the file.
DOCUMENT_TYPES = (
    (b"%PDF-", "application/pdf", "pdf", ("pdf",)),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png", ("png",)),
    (b"\xff\xd8\xff", "image/jpeg", "jpg", ("jpg", "jpeg")),
)

DOCUMENT_EMPTY = "file: the file is empty"
DOCUMENT_TOO_LARGE = "file: at most {limit} MB (this file is {size} MB)"
DOCUMENT_TYPE = "file: PDF, PNG or JPEG files only (this file is none of them)"
DOCUMENT_TITLE_EMPTY = "title: give the document a title"
DOCUMENT_TITLE_LONG = f"title: at most {MAX_TITLE} characters (got {{n}})"
DOCUMENT_KIND = "kind: must be one of {kinds} (got {value!r})"
DOCUMENT_FILE_MISSING = "The file of this document is missing from the storage."
DOCUMENT_ALREADY_SHARED = "document: {title} is already shared with the client"
DOCUMENT_NOT_SHARED = "document: {title} is not shared with the client"

DOCUMENT_SALT = "caseledger.matters.document-link"
DOCUMENT_LINK_MINUTES = 15
DOCUMENT_LINK_INVALID = "link: this download link is not valid"
DOCUMENT_LINK_OTHER_USER = "link: this download link was made for another sign-in"
DOCUMENT_LINK_EXPIRED = (
    f"link: this download link is older than {DOCUMENT_LINK_MINUTES} minutes and has expired; "
    "open the case page again for a fresh link"
)


class DocumentError(MatterError):
    code = "document_invalid"


class DocumentLinkError(ApplicationError):
    """A download link that is forged, altered or made for another user."""

    code = "document_link_invalid"


class DocumentLinkExpired(DocumentLinkError):
    code = "document_link_expired"


# Validation -------------------------------------------------------------------------------


def document_type(head: bytes) -> tuple[str, str, tuple[str, ...]]:
    """(content type, extension, accepted extensions) of a file starting with ``head``."""
    for magic, content_type, extension, accepted in DOCUMENT_TYPES:
        if head.startswith(magic):
            return content_type, extension, accepted
    raise DocumentError(DOCUMENT_TYPE, field="file")


_UNSAFE = re.compile(r'[\\/:*?"<>|]+')


def document_filename(name: str, extension: str, accepted: tuple[str, ...]) -> str:
    """A name safe in a download header and on any disk, keeping the letters of any script:
    NFC-normalised, control and format characters (NUL, bidi overrides) removed, path and
    reserved characters turned into "_", whitespace collapsed, no leading dots, at most
    MAX_FILENAME characters, ending in an extension that matches the file's real type."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = _UNSAFE.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or ext.lower() not in accepted:
        stem = text
    stem = stem.strip(" ._") or "document"
    return stem[: MAX_FILENAME - len(extension) - 1].rstrip(" .") + "." + extension


def _title(title: str) -> str:
    text = " ".join("".join(ch for ch in title or "" if ch.isprintable()).split())
    if not text:
        raise DocumentError(DOCUMENT_TITLE_EMPTY, field="title")
    if len(text) > MAX_TITLE:
        raise DocumentError(DOCUMENT_TITLE_LONG.format(n=len(text)), field="title")
    return text


# Writes -------------------------------------------------------------------------------------


def document_upload(
    *,
    matter: Matter,
    upload: UploadedFile,
    title: str,
    kind: str,
    actor: User,
    now: datetime,
    share: bool = False,
) -> MatterDocument:
    """Keep ``upload`` on ``matter`` (and share it with the client at once when ``share``).
    Raises DocumentError naming the field: an empty file, one over MAX_DOCUMENT_BYTES, one that
    is not a PDF, PNG or JPEG, an empty or overlong title, an unknown kind."""
    if kind not in DocumentKind.values:
        raise DocumentError(
            DOCUMENT_KIND.format(kinds=", ".join(DocumentKind.values), value=kind), field="kind"
        )
    clean_title = _title(title)
    size = upload.size or 0
    if size <= 0:
        raise DocumentError(DOCUMENT_EMPTY, field="file")
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            DOCUMENT_TOO_LARGE.format(
                limit=MAX_DOCUMENT_BYTES // (1024 * 1024), size=f"{size / (1024 * 1024):.1f}"
            ),
            field="file",
        )
    upload.seek(0)
    content_type, extension, accepted = document_type(upload.read(16))
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    filename = document_filename(upload.name or "", extension, accepted)
    with transaction.atomic():
        document = MatterDocument(
            matter=matter,
            kind=kind,
            title=clean_title,
            filename=filename,
            content_type=content_type,
            size_bytes=size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
            uploaded_at=now,
        )
        # The stored name is random: the uploaded name never reaches the disk.
        document.file.save(f"{uuid.uuid4().hex}.{extension}", upload, save=False)
        try:
            document.save()
            audit.record(
                actor=actor,
                action="matters.document_uploaded",
                at=now,
                obj=document,
                after={
                    "matter": matter.number,
                    "title": clean_title,
                    "kind": kind,
                    "filename": filename,
                    "content_type": content_type,
                    "size_bytes": size,
                    "sha256": document.sha256,
                },
            )
            if share:
                _share(document, actor, now)
        except BaseException:
            document.file.delete(save=False)
            raise
    return document


def _share(document: MatterDocument, actor: User, now: datetime) -> None:
    document.shared_at = now
    document.shared_by = actor
    document.save(update_fields=["shared_at", "shared_by"])
    audit.record(
        actor=actor,
        action="matters.document_shared",
        at=now,
        obj=document,
        after={"matter": document.matter.number, "title": document.title},
    )


def document_share(*, document: MatterDocument, actor: User, now: datetime) -> MatterDocument:
    """Show ``document`` to the client in the portal."""
    with transaction.atomic():
        locked = locks.document_lock(document_id=document.pk)
        if locked.shared_at is not None:
            raise DocumentError(
                DOCUMENT_ALREADY_SHARED.format(title=locked.title), field="document"
            )
        _share(locked, actor, now)
    return locked


def document_unshare(*, document: MatterDocument, actor: User, now: datetime) -> MatterDocument:
    """Stop showing ``document`` to the client (a link already handed out stops opening too:
    the portal looks the document up among the shared ones)."""
    with transaction.atomic():
        locked = locks.document_lock(document_id=document.pk)
        if locked.shared_at is None:
            raise DocumentError(DOCUMENT_NOT_SHARED.format(title=locked.title), field="document")
        before = {"shared_at": locked.shared_at}
        locked.shared_at = None
        locked.shared_by = None
        locked.save(update_fields=["shared_at", "shared_by"])
        audit.record(
            actor=actor,
            action="matters.document_unshared",
            at=now,
            obj=locked,
            before=before,
            after={"matter": locked.matter.number, "title": locked.title},
        )
    return locked


# Reads --------------------------------------------------------------------------------------


def matter_documents(matter: Matter) -> QuerySet[MatterDocument]:
    return (
        MatterDocument.objects.filter(matter=matter)
        .select_related("uploaded_by", "shared_by")
        .order_by("-uploaded_at", "-id")
    )


def shared_documents(matters: Any) -> QuerySet[MatterDocument]:
    """The documents shared with the client on ``matters`` (a queryset or ids), newest first."""
    return (
        MatterDocument.objects.filter(matter__in=matters, shared_at__isnull=False)
        .select_related("matter")
        .order_by("-shared_at", "-id")
    )


def document_response(document: MatterDocument) -> HttpResponse:
    """The stored file (at most MAX_DOCUMENT_BYTES, read whole) as an attachment under its
    sanitised name (RFC 5987 ``filename*`` for other scripts), never cached or sniffed. A file
    missing from the storage (a database restored without its media folder, or a purged
    document's) is a 404, not a 500."""
    if not document.file:
        raise Http404(DOCUMENT_FILE_MISSING)
    try:
        with document.file.open("rb") as handle:
            content = handle.read()
    except FileNotFoundError as exc:
        raise Http404(DOCUMENT_FILE_MISSING) from exc
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition_header(True, document.filename) or ""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Signed links -------------------------------------------------------------------------------


class _Signer(signing.TimestampSigner):
    """A TimestampSigner whose timestamp is the given moment (services take ``now``)."""

    def __init__(self, at: datetime | None = None) -> None:
        super().__init__(salt=DOCUMENT_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def document_token(*, document: MatterDocument, user: Any, at: datetime) -> str:
    """A token naming ``document`` for ``user``, valid DOCUMENT_LINK_MINUTES from ``at``."""
    return _Signer(at).sign(f"{document.pk}.{user.pk}")


def document_id_from_token(*, token: str, user: Any) -> int:
    """The id of the document ``token`` names, if it was made for ``user`` and is fresh.
    Raises DocumentLinkExpired when older than DOCUMENT_LINK_MINUTES (checked against the wall
    clock, as TimestampSigner does), DocumentLinkError when forged, altered or another user's."""
    try:
        value = _Signer().unsign(token, max_age=timedelta(minutes=DOCUMENT_LINK_MINUTES))
    except signing.SignatureExpired as exc:
        raise DocumentLinkExpired(DOCUMENT_LINK_EXPIRED, field="link") from exc
    except signing.BadSignature as exc:
        raise DocumentLinkError(DOCUMENT_LINK_INVALID, field="link") from exc
    document_id, _, user_id = value.partition(".")
    if not (document_id.isdigit() and user_id.isdigit()):
        raise DocumentLinkError(DOCUMENT_LINK_INVALID, field="link")
    if int(user_id) != getattr(user, "pk", None):
        raise DocumentLinkError(DOCUMENT_LINK_OTHER_USER, field="link")
    return int(document_id)
