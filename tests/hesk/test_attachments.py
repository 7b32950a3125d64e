"""The attachments folder never lets a saved_name escape it."""

from __future__ import annotations

import os

import pytest

from hesk.attachments import AttachmentFolder, parse_attachment_refs
from hesk.errors import AttachmentMissing, AttachmentSizeMismatch, UnsafeAttachmentPath


@pytest.fixture()
def folder(tmp_path):
    root = tmp_path / "attachments"
    root.mkdir()
    (root / "ABC-DEF-GHJK_abc.png").write_bytes(b"x" * 10)
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link_out.txt")
    os.symlink(root / "ABC-DEF-GHJK_abc.png", root / "link_in.png")
    return AttachmentFolder(root)


@pytest.mark.parametrize(
    "name",
    [
        "../secret.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "sub/../../secret.txt",
        "..",
        "",
        "a\x00b",
        "..\\x",
        "link_out.txt",
    ],
)
def test_escaping_names_are_refused(folder, name) -> None:
    with pytest.raises(UnsafeAttachmentPath):
        folder.open(name)
    assert folder.check(name)[0] == "unsafe_path"


def test_good_file_and_inside_symlink(folder) -> None:
    assert folder.read_bytes("ABC-DEF-GHJK_abc.png", 10) == b"x" * 10
    assert folder.check("link_in.png", 10) == ("ok", 10)


def test_missing_and_size_mismatch(folder) -> None:
    with pytest.raises(AttachmentMissing):
        folder.open("nope.png")
    assert folder.check("nope.png") == ("missing", None)
    with pytest.raises(AttachmentSizeMismatch):
        folder.open("ABC-DEF-GHJK_abc.png", 11)
    assert folder.check("ABC-DEF-GHJK_abc.png", 11) == ("size_mismatch", 10)


def test_parse_attachment_refs() -> None:
    assert parse_attachment_refs("12#invoice.pdf,13#photo.jpg,") == [
        (12, "invoice.pdf"),
        (13, "photo.jpg"),
    ]
    assert parse_attachment_refs("") == [] and parse_attachment_refs("x#y,") == []
