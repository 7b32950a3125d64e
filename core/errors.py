"""The error base every package's errors derive from.

Each error says what happened and what to do next (``hint``), and whether retrying may help
(``transient``). Commands map these to one line and an exit code; workers decide retry from
``transient``. Messages never contain secrets: build them from names, not from values.

    H2IError
     ├── ConfigError            (exit 2) a setting is missing or wrong
     ├── ServiceUnavailable     (exit 2) Postgres / MariaDB / Redis / Intercom cannot be reached
     └── package errors         (ledger.errors, hesk.errors, intercom_api.errors, ...)
"""

from __future__ import annotations


class H2IError(Exception):
    """Base of every error hesk2intercom raises on purpose."""

    exit_code: int = 2
    transient: bool = False
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def __reduce__(self):  # pickle cleanly across Dramatiq / multiprocessing
        return (_rebuild, (type(self), self.message, self.hint))


def _rebuild(cls: type[H2IError], message: str, hint: str) -> H2IError:
    err = cls.__new__(cls)
    H2IError.__init__(err, message, hint=hint)
    return err


class ConfigError(H2IError):
    """A setting is missing, malformed or contradicts another."""

    default_hint = "check the H2I_ settings (hesk2intercom --help lists them)"


class ServiceUnavailable(H2IError):
    """A server we need (Postgres, MariaDB, Redis, Intercom) cannot be reached."""

    transient = True
