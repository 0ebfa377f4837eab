"""The shared model of the lifecycle check (infra/lifecycle.py): a finding, the order the engine runs steps
in, and the physical names resources declare and mention. Plain functions on the JSON plan records."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from infra.isolation import object_key

Plan = list[dict]
PHASES = ("create", "post-deploy", "refresh", "update", "destroy")
# `DB.SCHEMA.NAME` or `"DB"."SCHEMA"."NAME"` (two or three parts) inside any text: SQL, specs, grants
_QUALIFIED = re.compile(r'("[^"]+"|[A-Za-z_][\w$]*)(?:\.("[^"]+"|[A-Za-z_][\w$]*)){1,2}')


@dataclass(frozen=True, order=True)
class Finding:
    """One thing a real engine or cloud would refuse: in which phase, at which resource, by which rule."""

    phase: str
    resource: str
    rule: str
    reason: str

    def line(self, stack: str) -> str:
        return f"lifecycle {stack}: {self.phase} {self.resource}: {self.rule}: {self.reason}"


class Graph:
    """What each resource waits for, as Pulumi orders steps: its dependencies, its parent and provider,
    every child of a component it depends on, and all of theirs, transitively."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = {r["urn"]: r for r in plan}
        self.children: dict[str, list[str]] = {}
        for r in plan:
            self.children.setdefault(r.get("parent") or "", []).append(r["urn"])
        self._closure: dict[str, frozenset[str]] = {}

    def _descendants(self, urn: str) -> Iterator[str]:
        for child in self.children.get(urn, ()):
            yield child
            yield from self._descendants(child)

    def edges(self, urn: str) -> set[str]:
        r = self.by_urn[urn]
        out = set(r.get("dependencies") or ())
        out |= {d for dep in list(out) for d in self._descendants(dep)}
        out |= {u for u in (r.get("parent"), r.get("provider")) if u}
        return {u for u in out if u in self.by_urn and u != urn}

    def waits_for(self, urn: str) -> frozenset[str]:
        """Every resource `urn` is created after (and destroyed before)."""
        if urn in self._closure:
            return self._closure[urn]
        seen: set[str] = set()
        todo = list(self.edges(urn))
        while todo:
            u = todo.pop()
            if u in seen:
                continue
            seen.add(u)
            todo += self._closure.get(u) or self.edges(u)
        self._closure[urn] = frozenset(seen)
        return self._closure[urn]


# ---------------------------------------------------------------------------- physical names
def _unquoted(name: str) -> str:
    return name.replace('"', "").upper()


def declared_names(plan: Plan) -> dict[str, str]:
    """Physical name → URN of the resource declaring it: qualified `DB.SCHEMA.NAME` (the key infra/isolation.py
    gives it, also reached from its quoted form) and the bare name of an account object."""
    found: dict[str, str] = {}
    for r in plan:
        key = object_key(r)
        if key is not None:
            found.setdefault(key[1], r["urn"])
    return found


def named_objects(text: str, names: Mapping[str, str]) -> set[str]:
    """The declared objects a text names: all of it an object's name, or a qualified name inside it."""
    found = {names[n]} if (n := _unquoted(text.strip())) in names else set()
    for m in _QUALIFIED.finditer(text):
        if (n := _unquoted(m.group(0))) in names and "." in n:
            found.add(names[n])
    return found
