"""Dataset references: a bare version id, or ``project/name@<semver|latest|alias>``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dsops.catalog.records import check_project_name, is_version_id
from dsops.catalog.semver import is_semver
from dsops.errors import ConfigError, InvalidReference

LATEST = "latest"
_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")

#: URL scheme of datasets (Airflow Asset URIs, Prefect asset keys, ``dsops://`` paths).
URL_SCHEME = "dsops"


def dataset_url(project: str, name: str) -> str:
    """The URL naming dataset ``project/name``: ``dsops://<project>/<name>``.

    Example:
        >>> dataset_url("vision/cats", "train")
        'dsops://vision/cats/train'
    """
    check_project_name(project, name)
    return f"{URL_SCHEME}://{project}/{name}"


def parse_dataset_url(url: str) -> tuple[str, str]:
    """``dsops://a/b/name`` → ``("a/b", "name")``; anything else is a ConfigError.

    Example:
        >>> parse_dataset_url("dsops://vision/cats/train")
        ('vision/cats', 'train')
    """
    scheme, sep, rest = url.partition("://")
    dataset = rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    project, _, name = dataset.rpartition("/")
    if scheme != URL_SCHEME or not sep or not project:
        raise ConfigError(
            f"Not a dsops dataset URL: {url!r}; write dsops://<project>/<name>.", url=url
        )
    check_project_name(project, name)
    return project, name


def version_url(ref: str, path: str = "") -> str:
    """The ``dsops://`` URL of ``path`` in the version ``ref`` (an id or ``p/n@label``).

    Example:
        >>> version_url("0123456789abcdef0123456789abcdef", "t.parquet")
        'dsops://0123456789abcdef0123456789abcdef/t.parquet'
        >>> version_url("vision/cats/train@prod")
        'dsops://vision/cats/train@prod/'
    """
    return f"{URL_SCHEME}://{DatasetRef.parse(ref)}/{path.lstrip('/')}"


def parse_version_url(url: str) -> tuple[DatasetRef, str]:
    """``[dsops://]<project>/<name>@<ref>/<path>`` or ``[dsops://]<id>/<path>`` → (ref, path).

    The first ``@`` ends the dataset part (names cannot contain one), so the path may.
    A first segment of 32 hex characters is a version id. Anything else is an
    :class:`InvalidReference` saying which form to write.

    Example:
        >>> ref, path = parse_version_url("dsops://vision/cats/train@1.2.0/img/a@2x.png")
        >>> (ref.project, ref.name, ref.label, path)
        ('vision/cats', 'train', '1.2.0', 'img/a@2x.png')
        >>> parse_version_url("0123456789abcdef0123456789abcdef/t.csv")[1]
        't.csv'
    """
    text = str(url)
    if text.startswith(f"{URL_SCHEME}://"):
        text = text[len(URL_SCHEME) + 3 :]
    text = text.lstrip("/")
    first, _, rest = text.partition("/")
    if is_version_id(first):
        return DatasetRef(version_id=first), rest.strip("/")
    dataset, at, after = text.partition("@")
    label, _, path = after.partition("/")
    if not at or not label:
        raise InvalidReference(
            f"{url!r} does not name a version: write dsops://<project>/<name>@<ref>/<path> "
            "(ref: a semantic version, an alias or latest) or dsops://<version id>/<path>.",
            ref=str(url),
        )
    return DatasetRef.parse(f"{dataset}@{label}"), path.strip("/")


def check_alias(alias: str) -> str:
    if not _ALIAS.match(alias) or is_semver(alias):
        raise ConfigError(
            f"Invalid alias {alias!r}: start with a letter; letters, digits, '.', '_', '-'.",
            alias=alias,
        )
    return alias


@dataclass(frozen=True)
class DatasetRef:
    """A parsed reference. Exactly one of ``version_id`` or ``project``+``name`` is set."""

    version_id: str | None = None
    project: str | None = None
    name: str | None = None
    label: str = LATEST  # a semver, "latest", or an alias

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        """Parse ``text``.

        Example:
            >>> DatasetRef.parse("vision/cats@1.2.0").label
            '1.2.0'
        """
        raw = str(text).strip()
        if is_version_id(raw):
            return cls(version_id=raw)
        dataset, sep, label = raw.partition("@")
        project, slash, name = dataset.rpartition("/")
        if not slash or not project or not name or (sep and not label):
            raise InvalidReference(
                f"Cannot read {text!r} as a dataset reference: use a version id (32 hex "
                "characters) or project/name@version, project/name@latest, "
                "project/name@<alias>.",
                ref=str(text),
            )
        try:
            check_project_name(project, name)
            if label and not is_semver(label):
                check_alias(label)
        except ConfigError as exc:
            raise InvalidReference(f"Invalid reference {text!r}: {exc}", ref=str(text)) from None
        return cls(project=project, name=name, label=label or LATEST)

    def __str__(self) -> str:
        if self.version_id:
            return self.version_id
        return f"{self.project}/{self.name}@{self.label}"

    @property
    def is_semver(self) -> bool:
        return self.version_id is None and is_semver(self.label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "project": self.project,
            "name": self.name,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetRef:
        return cls(**data)
