"""Documents the firm shares on a matter: staff upload (PDF, PNG, JPEG only, at most 10 MB, the
name sanitised) and share; the client downloads them from the case page through signed links
made for them that expire; another client's document is a 404, an altered or another user's link
a 403, a stale one a 410; every step is an audit event."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from caseledger.clients.tests.factories import make_beneficiary, make_person
from caseledger.core.choices import Role
from caseledger.core.models import AuditEvent
from caseledger.matters import documents
from caseledger.matters.models import MatterDocument
from caseledger.matters.tests.factories import make_matter

pytestmark = pytest.mark.django_db

ONLY_TYPES = r"^file: PDF, PNG or JPEG files only \(this file is none of them\)$"

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _client_with_login(make_user: Any) -> tuple[Any, Any]:
    client = make_person()
    user = make_user(role=Role.CLIENT)
    client.portal_users.add(user)
    return user, make_matter(
        client=client,
        beneficiary=make_beneficiary(client=client, relationship="SPOUSE"),
        case_type_code="i130",
    )


def _upload(matter: Any, actor: Any, now: Any, **kw: Any) -> MatterDocument:
    content = kw.pop("content", PDF)
    name = kw.pop("name", "I-797 approval.pdf")
    return documents.document_upload(
        matter=matter,
        upload=SimpleUploadedFile(
            name, content, content_type=kw.pop("declared", "application/pdf")
        ),
        title=kw.pop("title", "Approval notice"),
        kind=kw.pop("kind", "APPROVAL_NOTICE"),
        actor=actor,
        now=now,
        **kw,
    )


# Upload refusals ---------------------------------------------------------------------------


def test_refuses_a_file_that_is_not_pdf_png_or_jpeg_whatever_its_name(users, now):
    matter = make_matter()
    with pytest.raises(documents.DocumentError, match=ONLY_TYPES):
        _upload(matter, users["PARALEGAL"], now, content=b"MZ\x90\x00 not a pdf", name="x.pdf")
    with pytest.raises(documents.DocumentError, match=ONLY_TYPES):
        _upload(matter, users["PARALEGAL"], now, content=b"<html><script>", name="a.png")
    assert not MatterDocument.objects.exists()


def test_refuses_an_empty_or_oversized_file(users, now, settings):
    matter = make_matter()
    with pytest.raises(documents.DocumentError, match=r"^file: the file is empty$"):
        _upload(matter, users["PARALEGAL"], now, content=b"")
    big = PDF + b"0" * documents.MAX_DOCUMENT_BYTES
    with pytest.raises(
        documents.DocumentError, match=r"^file: at most 10 MB \(this file is 10.0 MB\)"
    ):
        _upload(matter, users["PARALEGAL"], now, content=big)
    assert not MatterDocument.objects.exists()
    stored = Path(settings.MEDIA_ROOT)
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_refuses_an_empty_title_and_an_unknown_kind(users, now):
    matter = make_matter()
    with pytest.raises(documents.DocumentError, match=r"^title: give the document a title$"):
        _upload(matter, users["PARALEGAL"], now, title=" \x00 ")
    with pytest.raises(
        documents.DocumentError, match=r"^kind: must be one of .* \(got 'PASSPORT'\)"
    ):
        _upload(matter, users["PARALEGAL"], now, kind="PASSPORT")


@pytest.mark.parametrize(
    ("given", "content", "expected"),
    [
        ("approval\x00.pdf", PDF, "approval.pdf"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\Users\\ana\\notice.PDF", PDF, "C_Users_ana_notice.pdf"),
        ("aviso de aprobación.pdf", PDF, "aviso de aprobación.pdf"),
        ("批准通知.pdf", PDF, "批准通知.pdf"),
        ("\u202egnp.exe", PNG, "gnp.exe.png"),  # bidi override removed, real type appended
        ("scan.jpeg", JPEG, "scan.jpg"),  # the extension of its type, one spelling
        ("...", JPEG, "document.jpg"),
        ("a" * 300 + ".pdf", PDF, "a" * 116 + ".pdf"),
    ],
)
def test_the_filename_is_sanitised(given, content, expected, users, now):
    document = _upload(make_matter(), users["PARALEGAL"], now, name=given, content=content)
    assert document.filename == expected
    assert len(document.filename) <= documents.MAX_FILENAME
    # The stored name is random, never the uploaded one.
    stored = str(document.file.name)
    assert given not in stored
    assert re.fullmatch(r"matters/documents/\d{4}/\d{2}/[0-9a-f]{32}\.(pdf|png|jpg)", stored)


def test_upload_form_shows_the_rule_under_the_field(client, login, users):
    matter = make_matter(attorney=users["ATTORNEY"])
    login(users["ATTORNEY"])
    response = client.post(
        reverse("matters:document_upload", args=[matter.pk]),
        {
            "title": "RFE",
            "kind": "RFE",
            "file": SimpleUploadedFile("rfe.pdf", b"just text", content_type="application/pdf"),
        },
    )
    assert response.status_code == 422
    (error,) = response.context["document_form"].errors["file"]
    assert error == "PDF, PNG or JPEG files only (this file is none of them)"
    assert 'id="id_file-errors"' in response.content.decode()
    assert not MatterDocument.objects.exists()


# Upload, share, download ---------------------------------------------------------------------


def test_staff_upload_share_and_the_client_downloads_through_a_signed_link(
    client, login, make_user, users
):
    user, matter = _client_with_login(make_user)
    matter.attorney = users["ATTORNEY"]
    matter.save(update_fields=["attorney"])
    login(users["ATTORNEY"])
    response = client.post(
        reverse("matters:document_upload", args=[matter.pk]),
        {
            "title": "I-797 approval notice",
            "kind": "APPROVAL_NOTICE",
            "file": SimpleUploadedFile("approval.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302, response.content
    document = MatterDocument.objects.get()
    assert document.shared_at is None
    assert document.content_type == "application/pdf"
    assert document.size_bytes == len(PDF)
    page = client.get(reverse("matters:detail", args=[matter.pk])).content.decode()
    assert "I-797 approval notice" in page
    assert "Not shared" in page
    staff_copy = client.get(reverse("matters:document_download", args=[document.pk]))
    assert staff_copy.content == PDF

    # Not shared yet: the client sees nothing.
    login(user)
    page = client.get(reverse("portal:case_detail", args=[matter.pk])).content.decode()
    assert "I-797 approval notice" not in page

    login(users["ATTORNEY"])
    shared = client.post(reverse("matters:document_share", args=[document.pk]))
    assert shared.status_code == 302
    document.refresh_from_db()
    assert document.shared_by == users["ATTORNEY"]

    login(user)
    response = client.get(reverse("portal:case_detail", args=[matter.pk]))
    page = response.content.decode()
    assert "I-797 approval notice" in page
    (link,) = [d.url for d in response.context["documents"]]
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="approval.pdf"'
    assert download["Cache-Control"] == "private, no-store"
    assert download.content == PDF

    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_id"))
    assert ("matters.document_uploaded", users["ATTORNEY"].pk) in actions
    assert ("matters.document_shared", users["ATTORNEY"].pk) in actions
    assert ("portal.document_downloaded", user.pk) in actions


def test_a_non_ascii_name_downloads_with_its_rfc_5987_filename(
    client, login, make_user, users, now
):
    user, matter = _client_with_login(make_user)
    document = _upload(matter, users["PARALEGAL"], now, name="aprobación.pdf", share=True)
    login(user)
    link = reverse(
        "portal:document_download",
        args=[documents.document_token(document=document, user=user, at=timezone.now())],
    )
    response = client.get(link)
    assert response.status_code == 200
    assert "filename*=utf-8''aprobaci%C3%B3n.pdf" in response["Content-Disposition"]


def test_another_clients_document_is_not_found(client, login, make_user, users, now):
    user, _ = _client_with_login(make_user)
    _, other_matter = _client_with_login(make_user)
    theirs = _upload(other_matter, users["PARALEGAL"], now, share=True)
    login(user)
    # Even a correctly signed link made for this user opens only their own clients' documents.
    token = documents.document_token(document=theirs, user=user, at=timezone.now())
    response = client.get(reverse("portal:document_download", args=[token]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="portal.document_downloaded").exists()


def test_a_withdrawn_document_stops_opening(client, login, make_user, users, now):
    user, matter = _client_with_login(make_user)
    document = _upload(matter, users["PARALEGAL"], now, share=True)
    token = documents.document_token(document=document, user=user, at=timezone.now())
    documents.document_unshare(document=document, actor=users["PARALEGAL"], now=now)
    assert AuditEvent.objects.filter(action="matters.document_unshared").exists()
    login(user)
    assert client.get(reverse("portal:document_download", args=[token])).status_code == 404
    with pytest.raises(documents.DocumentError, match=r"^document: .* is not shared"):
        documents.document_unshare(document=document, actor=users["PARALEGAL"], now=now)


def test_an_expired_link_answers_410_with_what_to_do(client, login, make_user, users, now):
    user, matter = _client_with_login(make_user)
    document = _upload(matter, users["PARALEGAL"], now, share=True)
    stale = timezone.now() - timedelta(minutes=documents.DOCUMENT_LINK_MINUTES, seconds=5)
    fresh = timezone.now() - timedelta(minutes=documents.DOCUMENT_LINK_MINUTES - 1)
    login(user)
    token = documents.document_token(document=document, user=user, at=stale)
    response = client.get(reverse("portal:document_download", args=[token]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "Download link expired" in page
    assert f"a download link works for {documents.DOCUMENT_LINK_MINUTES} minutes" in page
    token = documents.document_token(document=document, user=user, at=fresh)
    assert client.get(reverse("portal:document_download", args=[token])).status_code == 200


def test_a_tampered_or_another_users_link_answers_403(client, login, make_user, users, now):
    user, matter = _client_with_login(make_user)
    document = _upload(matter, users["PARALEGAL"], now, share=True)
    token = documents.document_token(document=document, user=user, at=timezone.now())
    login(user)
    value, ts, sig = token.split(":")
    altered = [
        f"{document.pk + 1}.{user.pk}:{ts}:{sig}",  # another document under the same signature
        f"{value}:{ts}:{sig[:-2]}{'AA' if not sig.endswith('AA') else 'BB'}",
        "nonsense",
    ]
    for bad in altered:
        response = client.get(reverse("portal:document_download", args=[bad]))
        assert response.status_code == 403, bad
        assert "Download link not valid" in response.content.decode()
    # The same client's second login may not use the first one's link.
    colleague = make_user(role=Role.CLIENT)
    matter.client.portal_users.add(colleague)
    login(colleague)
    response = client.get(reverse("portal:document_download", args=[token]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="portal.document_downloaded").exists()


def test_the_link_error_page_reads_in_spanish(client, login, make_user, users, now):
    user, matter = _client_with_login(make_user)
    matter.client.preferred_language = "es"
    matter.client.save(update_fields=["preferred_language"])
    login(user)
    response = client.get(reverse("portal:document_download", args=["nonsense"]))
    assert response.status_code == 403
    assert "El enlace de descarga no es válido" in response.content.decode()


def test_share_twice_is_refused(users, now):
    document = _upload(make_matter(), users["PARALEGAL"], now, share=True)
    with pytest.raises(documents.DocumentError, match=r"^document: Approval notice is already"):
        documents.document_share(document=document, actor=users["PARALEGAL"], now=now)


def test_a_file_missing_from_storage_is_a_404_not_a_500(client, login, make_user, users, now):
    user, matter = _client_with_login(make_user)
    document = _upload(matter, users["PARALEGAL"], now, share=True)
    document.file.storage.delete(str(document.file.name))
    login(users["ADMIN"])
    response = client.get(reverse("matters:document_download", args=[document.pk]))
    assert response.status_code == 404
    login(user)
    token = documents.document_token(document=document, user=user, at=timezone.now())
    assert client.get(reverse("portal:document_download", args=[token])).status_code == 404
    assert not AuditEvent.objects.filter(action="portal.document_downloaded").exists()
