"""The one registry idiom: an ordered table of small spec objects, kept in the module that owns them.

Every spec has a `name` (and may have `aliases`, older or shorter names that still work). The table's order is
meaningful where it matters (the order `--backend auto` tries runtimes, the order sources match a `--source`
text), and the CLI takes its choices from the table, so a new entry shows up everywhere at once.

    BACKENDS = Registry("backend", [LiteRTBackend, TFLiteRuntimeBackend, ...])
    BACKENDS.get("litert")      # the spec, or ConfigurationError naming the choices
    BACKENDS.choices()          # names and aliases, for click.Choice
"""

from edgecnn.errors import ConfigurationError


class Registry:
    """Specs by name, in registration order; aliases resolve to the spec they stand for."""

    def __init__(self, kind, specs=(), error=ConfigurationError):
        self.kind = kind
        self.error = error
        self._specs = {}
        self._aliases = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec):
        """Register `spec` (usable as a class decorator); a name or alias may be registered only once."""
        for name in (spec.name, *getattr(spec, "aliases", ())):
            if name in self._specs or name in self._aliases:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._specs[spec.name] = spec
        for alias in getattr(spec, "aliases", ()):
            self._aliases[alias] = spec.name
        return spec

    def remove(self, name):
        """Drop a spec (for tests and plug-ins that replace one)."""
        spec = self._specs.pop(name, None)
        for alias in getattr(spec, "aliases", ()):
            self._aliases.pop(alias, None)

    def canonical(self, name):
        """The spec name `name` stands for (itself, or the name behind an alias)."""
        if name in self._specs:
            return name
        if name in self._aliases:
            return self._aliases[name]
        raise self.error(f"unknown {self.kind} {name!r}; choose one of {', '.join(self.names())}")

    def get(self, name):
        return self._specs[self.canonical(name)]

    __getitem__ = get

    def names(self):
        """Canonical names, in order."""
        return tuple(self._specs)

    def choices(self):
        """Names and aliases, for a CLI option that accepts either."""
        return tuple(self._specs) + tuple(self._aliases)

    def __contains__(self, name):
        return name in self._specs or name in self._aliases

    def __iter__(self):
        return iter(tuple(self._specs.values()))

    def __len__(self):
        return len(self._specs)
