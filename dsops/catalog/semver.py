"""Semantic version labels: parse, order and bump (``MAJOR.MINOR.PATCH``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from dsops.errors import ConfigError

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

FIRST = "1.0.0"


def is_semver(text: str) -> bool:
    return bool(_SEMVER.match(text))


def parse(text: str) -> tuple[int, int, int]:
    match = _SEMVER.match(text)
    if not match:
        raise ConfigError(
            f"Invalid version {text!r}: use MAJOR.MINOR.PATCH, e.g. '1.2.0'.", version=text
        )
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def bump_patch(text: str) -> str:
    major, minor, patch = parse(text)
    return f"{major}.{minor}.{patch + 1}"


def highest(labels: Iterable[str]) -> str | None:
    valid = [label for label in labels if is_semver(label)]
    return max(valid, key=parse) if valid else None


def next_after(labels: Iterable[str]) -> str:
    top = highest(labels)
    return bump_patch(top) if top else FIRST
