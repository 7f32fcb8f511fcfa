"""Editing the pinned artifacts of a stack file while keeping every other byte: comments, key order, quoting.

ruamel.yaml's round-trip mode keeps comments and order, but it re-indents the whole file with one layout. So
`StackDocument.load` first finds the indentation layout under which the untouched file dumps back byte for
byte, and refuses files no layout reproduces. `render` then checks the result: only lines holding a pinned
key (`digest`, `modelPackageArn`, a new `<project>:image`) may differ; anything else is refused, never written.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

# Lines we are allowed to change; everything else in the file must come out identical.
_PINNED_LINE = re.compile(r"^\s*(?:-\s+)?(?:digest|modelPackageArn|(?:[A-Za-z0-9_.-]+:)?image):(?:\s|$)")


class StackEditError(Exception):
    """The stack file cannot be edited safely; the message names the file and why."""


@dataclass(frozen=True)
class _Layout:
    mapping: int
    sequence: int
    offset: int


def _layouts() -> Iterator[_Layout]:
    # The common layouts first (ours is mapping 2, "- " indented by 2 inside a 4-wide sequence), then the rest.
    yield from (_Layout(2, 4, 2), _Layout(2, 2, 0), _Layout(4, 4, 2), _Layout(4, 6, 4), _Layout(4, 4, 0))
    for mapping in (2, 3, 4):
        for sequence in range(2, 9):
            for offset in range(sequence - 1):
                yield _Layout(mapping, sequence, offset)


def _yaml(layout: _Layout) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long values (ARNs, descriptions) onto a second line
    yaml.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def _same_style(old: Any, new: str) -> str:
    # Keep the old value's quoting: ruamel marks quoted scalars with str subclasses (e.g. DoubleQuotedScalarString).
    return type(old)(new) if isinstance(old, str) and type(old) is not str else new


class StackDocument:
    """A stack file loaded for editing its pinned artifacts (image digest, model package ARNs)."""

    def __init__(self, path: Path, text: str, yaml: YAML, data: CommentedMap, namespace: str) -> None:
        self.path = path
        self.original = text
        self._yaml = yaml
        self._data = data
        self._namespace = namespace

    @classmethod
    def load(cls, path: Path, namespace: str) -> StackDocument:
        """Read a stack file for editing; `namespace` is the project name (keys like `mlops:image`)."""
        try:
            text = path.read_bytes().decode("utf-8")  # not read_text: it would turn CRLF into LF unseen
        except (OSError, UnicodeDecodeError) as exc:
            raise StackEditError(f"{path}: cannot read it ({exc})") from None
        for layout in _layouts():
            yaml = _yaml(layout)
            try:
                data = yaml.load(text)
            except YAMLError as exc:
                raise StackEditError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
            try:
                if _dump(yaml, data) == text:
                    break
            except Exception:  # some indent combinations are invalid for ruamel; try the next
                continue
        else:
            raise StackEditError(
                f"{path}: its layout (indentation, line endings or flow style) does not survive a YAML round trip, "
                "so editing it would reformat other lines; change the pinned values by hand"
            )
        if not isinstance(data, CommentedMap) or not isinstance(data.get("config"), CommentedMap):
            raise StackEditError(f"{path}: must be a mapping with a 'config' mapping")
        return cls(path, text, yaml, data, namespace)

    def _key(self, name: str) -> str:
        # Pulumi accepts both `mlops:image` and, for the project's own namespace, plain `image`.
        config = self._data["config"]
        qualified = f"{self._namespace}:{name}"
        return name if qualified not in config and name in config else qualified

    def set_image_digest(self, digest: str) -> bool:
        """Pin the image digest (`<project>:image.digest`); True when the file changes."""
        config: CommentedMap = self._data["config"]
        key = self._key("image")
        image = config.get(key)
        if image is None:
            models = self._key("models")
            position = list(config).index(models) if models in config else len(config)
            config.insert(position, key, CommentedMap([("digest", digest)]))
            return True
        if not isinstance(image, CommentedMap):
            raise StackEditError(f"{self.path}: {key} must be a mapping (repository, accountId, digest)")
        if image.get("digest") == digest:
            return False
        image["digest"] = _same_style(image.get("digest"), digest)
        return True

    def set_model_package_arn(self, model: str, arn: str) -> bool:
        """Pin a model's registered version (`<project>:models[name=model].modelPackageArn`); True on change."""
        key = self._key("models")
        models = self._data["config"].get(key)
        if not isinstance(models, CommentedSeq):
            raise StackEditError(f"{self.path}: {key} must be a list of models")
        entry = next((m for m in models if isinstance(m, CommentedMap) and m.get("name") == model), None)
        if entry is None:
            raise StackEditError(f"{self.path}: {key} declares no model named '{model}'")
        old = entry.get("modelPackageArn")
        if old == arn:
            return False
        if old is None:
            anchor = "description" if "description" in entry else "name"
            entry.insert(list(entry).index(anchor) + 1, "modelPackageArn", arn)
        else:
            entry["modelPackageArn"] = _same_style(old, arn)
        return True

    def render(self) -> str:
        """The edited file. Raises StackEditError when anything but pinned lines would change."""
        text = _dump(self._yaml, self._data)
        old, new = self.original.splitlines(keepends=True), text.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            stray = [line for line in old[i1:i2] + new[j1:j2] if tag != "equal" and not _PINNED_LINE.match(line)]
            if stray:
                raise StackEditError(
                    f"{self.path}: editing the pinned values would also change {stray[0].strip()!r}; "
                    "change the pinned values by hand"
                )
        return text


def unified_diff(path: Path, before: str, after: str) -> str:
    """A `git diff`-style diff of one file."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
        )
    )
