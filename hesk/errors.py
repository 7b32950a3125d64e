"""Errors of the Hesk source side (``hesk/``).

    H2IError                      (core.errors)
     └── HeskError                (exit 2) anything wrong on the Hesk side
          ├── HeskConnectionError (transient) the Hesk database cannot be reached / wrong DSN
          ├── HeskSchemaError     a required table or column is missing (wrong prefix, not Hesk)
          ├── UnsupportedHeskVersion  the schema is older than the reader supports
          ├── ExportFileError     the Hesk Cloud export file is unreadable or not Hesk's format
          └── UnsafeAttachmentPath    a saved_name would escape the attachments folder

Messages never contain a password: URLs go through ``core.settings.redact_url``.
"""

from __future__ import annotations

from core.errors import H2IError


class HeskError(H2IError):
    """Base of every error raised by the ``hesk`` package."""

    default_hint = "check H2I_HESK_URL, H2I_HESK_TABLE_PREFIX and H2I_HESK_ATTACHMENTS_DIR"


class HeskConnectionError(HeskError):
    """The Hesk MySQL/MariaDB database cannot be reached or the DSN is wrong."""

    transient = True
    default_hint = "check H2I_HESK_URL (host, port, user, database) and that the server runs"


class HeskSchemaError(HeskError):
    """A table or column the reader needs is missing (wrong prefix, or not a Hesk database)."""

    default_hint = "check H2I_HESK_TABLE_PREFIX (Hesk's db_pfix, default hesk_) and the database"


class UnsupportedHeskVersion(HeskError):
    """The Hesk schema is too old for this reader."""

    default_hint = "upgrade Hesk to 2.7 or newer (install/update.php), then run discover again"


class ExportFileError(HeskError):
    """The export file is not a readable Hesk ticket export (.zip of Excel 2003 XML)."""

    default_hint = "export again from Hesk (Tickets > Export) and pass the .zip unchanged"


class UnsafeAttachmentPath(HeskError):
    """An attachment ``saved_name`` points outside the attachments folder."""

    default_hint = "the attachment is quarantined; inspect the hesk_attachments row"


class AttachmentMissing(HeskError):
    """An attachment row has no file on disk (deleted, anonymised, or a partial copy)."""

    default_hint = "copy Hesk's attachments folder completely, or accept the quarantine"


class AttachmentSizeMismatch(HeskError):
    """The file on disk does not have the size its row records (truncated copy?)."""

    default_hint = "re-copy the file from the Hesk server, then retry"
