"""The dsops error hierarchy.

Every error dsops raises derives from :class:`DsopsError`. Subclasses also inherit the
matching built-in exception, so ``except LookupError`` catches a missing version and
``except FileNotFoundError`` a missing store object. Errors carry their context as
attributes, say what to do next, and pickle cleanly (Airflow and Prefect ship them
across processes).
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[DsopsError], message: str, context: dict[str, Any]) -> DsopsError:
    return cls(message, **context)


class DsopsError(Exception):
    """Base of every dsops error. ``str(err)`` is a complete sentence for a user."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.context))


# --- configuration and environment -------------------------------------------------


class ConfigError(DsopsError, ValueError):
    """A setting or argument is invalid."""


class MissingDependency(DsopsError, ImportError):
    """An optional package is needed for this feature; the message names the extra."""


# --- store ----------------------------------------------------------------------------


class StoreError(DsopsError, OSError):
    """The store failed an operation."""


class ObjectNotFound(StoreError, FileNotFoundError):
    """A key does not exist in the store."""


class PreconditionFailed(StoreError):
    """A conditional write lost: the key changed (compare-and-swap) or already exists."""


class ObjectExists(PreconditionFailed, FileExistsError):
    """A create-only write found the key already present."""


class AccessDenied(StoreError, PermissionError):
    """The store refused the request: credentials or permissions."""


class StoreUnavailable(StoreError, ConnectionError):
    """The store cannot be reached, or does not exist."""


class StoreFormatError(StoreError):
    """The store root holds data of an unknown or newer format."""


# --- datasets -------------------------------------------------------------------------


class InvalidReference(DsopsError, ValueError):
    """A dataset reference cannot be parsed."""


class InvalidPath(DsopsError, ValueError):
    """A dataset path is absolute, climbs out with ``..``, or is otherwise unsafe."""


class VersionNotFound(DsopsError, LookupError):
    """No version (or draft) matches the id or reference."""


class DatasetNotFound(VersionNotFound):
    """No finalized version exists for ``project/name``."""


class NoMatchingDataset(DatasetNotFound, ValueError):
    """No dataset version matches a ClearML-style lookup (``dsops.clearml.Dataset.get``);
    also a ``ValueError``, as ClearML raises."""


class ServerOnly(DsopsError, NotImplementedError):
    """A ClearML feature that needs a ClearML server (tasks, the web app); the message
    names the dsops equivalent."""


class VersionDeleted(VersionNotFound):
    """The version was deleted (its tombstone keeps the record for lineage)."""


class DatasetRenamed(VersionNotFound):
    """The dataset was renamed or moved: the old name no longer resolves."""


class RenameConflict(DsopsError, RuntimeError):
    """Another rename of this dataset, or onto this name, won."""


class ProtectedVersion(DsopsError, RuntimeError):
    """A delete or prune would remove a published, parent or aliased version."""


class MetadataNotFound(DsopsError, LookupError):
    """A version has no metadata of that name."""


class PathNotFound(DsopsError, FileNotFoundError):
    """A version holds no file or folder at this path."""


class ReadOnlyFileSystem(DsopsError, PermissionError):
    """A write through the ``dsops://`` filesystem: versions are immutable."""


class VersionImmutable(DsopsError, RuntimeError):
    """The version is finalized; it can no longer be changed."""


class NotFinalized(DsopsError, RuntimeError):
    """The operation needs a finalized version, but this one is still a draft."""


class VersionConflict(DsopsError, ValueError):
    """A semantic version label is already taken by another version."""


class IntegrityError(DsopsError, ValueError):
    """Stored bytes do not match their recorded hash (a corrupted object)."""


class ExternalSourceChanged(IntegrityError):
    """An external file's source (``url``) changed since it was added at ``path``: its
    validator differs or its bytes no longer hash to the recorded hash. Nothing of it is
    cached or served."""


class InvalidDigest(DsopsError, ValueError):
    """A content hash is not in its algorithm's hex form (64 lowercase hex for BLAKE3)."""


class ManifestError(DsopsError, ValueError):
    """A manifest or draft part is malformed."""


class InvalidManifest(ManifestError):
    """A manifest row is unsafe or inconsistent (bad hash, object key, range, duplicate)."""


class TargetExists(DsopsError, FileExistsError):
    """The target folder is not empty and ``overwrite`` was not requested."""


class UnsafeTarget(DsopsError, ValueError):
    """A fetch target is, contains, or lies inside the store or the cache folder."""


class CorruptRecord(ManifestError):
    """A record in the store (``versions/<id>.json``, a draft, a name or an alias) is not
    valid JSON or has the wrong types; ``key`` names it."""


class UnsafeSymlink(DsopsError, ValueError):
    """A symbolic link in a source leaves the source folder (or loops back into it)."""


class SourceNotFound(DsopsError, FileNotFoundError):
    """A local path given to add or sync does not exist."""


class DiskFull(DsopsError, OSError):
    """A local disk (the cache, a copy's target, the local store, a download's scratch
    folder) ran out of space or quota; ``folder``, ``needed`` and ``free`` say where
    and how much."""


class FileChangedError(DsopsError, RuntimeError):
    """A source file changed while it was being added."""


class DsopsWarning(UserWarning):
    """Something was skipped (e.g. a corrupt record while listing); the message says why."""


__all__ = [
    "AccessDenied",
    "ConfigError",
    "CorruptRecord",
    "DatasetNotFound",
    "DatasetRenamed",
    "DiskFull",
    "DsopsError",
    "DsopsWarning",
    "ExternalSourceChanged",
    "FileChangedError",
    "IntegrityError",
    "InvalidDigest",
    "InvalidManifest",
    "InvalidPath",
    "InvalidReference",
    "ManifestError",
    "MetadataNotFound",
    "MissingDependency",
    "NoMatchingDataset",
    "NotFinalized",
    "ObjectExists",
    "ObjectNotFound",
    "PathNotFound",
    "PreconditionFailed",
    "ProtectedVersion",
    "ReadOnlyFileSystem",
    "RenameConflict",
    "ServerOnly",
    "SourceNotFound",
    "StoreError",
    "StoreFormatError",
    "StoreUnavailable",
    "TargetExists",
    "UnsafeSymlink",
    "UnsafeTarget",
    "VersionConflict",
    "VersionDeleted",
    "VersionImmutable",
    "VersionNotFound",
]
