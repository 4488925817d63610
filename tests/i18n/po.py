"""A small reader of gettext catalogs (.po), enough for the catalog checks: entries with their
context, msgid, plural, msgstr(s) and flags; obsolete (``#~``) entries are left out."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translations(self) -> list[str]:
        return [self.msgstr[i] for i in sorted(self.msgstr)]

    @property
    def untranslated(self) -> bool:
        return not self.msgstr or any(not s for s in self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    def label(self) -> str:
        ctx = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctx}{self.msgid[:70]!r}"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> list[Entry]:
    """Every live entry of the catalog, the header (msgid "") included first."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int | None] | None = None
    flags: set[str] = set()
    started = False

    def finish() -> None:
        nonlocal current, started
        if current is not None and started:
            entries.append(current)
        current, started = None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            flags = set()
            continue
        if line.startswith("#~"):
            continue  # obsolete: no longer in the source
        if line.startswith("#,"):
            if started:
                finish()
            flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith("#"):
            if started and target is not None and target[0] == "msgstr":
                finish()
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, text = match.group(1), match.group(2), _unquote(match.group(3))
            if keyword in {"msgctxt", "msgid"} and started and target and target[0] == "msgstr":
                finish()
            if current is None:
                current = Entry(flags=flags, line=number)
                flags = set()
            started = True
            if keyword == "msgctxt":
                current.msgctxt, target = text, ("msgctxt", None)
            elif keyword == "msgid":
                current.msgid, target = text, ("msgid", None)
            elif keyword == "msgid_plural":
                current.msgid_plural, target = text, ("msgid_plural", None)
            else:
                n = int(index) if index is not None else 0
                current.msgstr[n], target = text, ("msgstr", n)
            continue
        if line.startswith('"') and current is not None and target is not None:
            text = _unquote(line)
            name, n = target
            if name == "msgctxt":
                current.msgctxt = (current.msgctxt or "") + text
            elif name == "msgid":
                current.msgid += text
            elif name == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + text
            else:
                assert n is not None
                current.msgstr[n] += text
            continue
        raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def header_of(entries: list[Entry]) -> dict[str, str]:
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            text = entry.msgstr.get(0, "")
            return {
                k.strip(): v.strip()
                for k, _sep, v in (line.partition(":") for line in text.splitlines())
                if k.strip()
            }
    return {}


def messages(entries: list[Entry]) -> list[Entry]:
    """The entries that are messages (not the header)."""
    return [e for e in entries if not (e.msgid == "" and e.msgctxt is None)]


# ---- placeholders --------------------------------------------------------------------------

_PLACEHOLDER = re.compile(
    r"%\((?P<named>[^)]+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]"  # %(name)s
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifr]"  # %s %d
    r"|\{[A-Za-z_][A-Za-z0-9_]*\}"  # {name}
    r"|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"  # html tags
)


def placeholders(text: str) -> list[str]:
    """The placeholders and html tags of a message, sorted (a multiset); ``%%`` is a literal."""
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text.replace("%%", "")))
