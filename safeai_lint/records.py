"""Frozen records: what `@dataclass(frozen=True)` gives, for a fraction of its start-up cost.

Why: `@dataclass(frozen=True)` writes `__init__`, `__repr__`, `__eq__`, `__hash__`,
`__setattr__` and `__delattr__` of each class as source text and compiles each one at import,
0.5-0.8 ms a class; a pre-commit run loads about seventy such classes, a sixth of its time.

A `@record` class is still a dataclass (`dataclasses.fields`, `replace`, `asdict` and
`is_dataclass` work as usual). Its equality, hash, repr, ordering and frozenness are written
once here (`Record`, `Frozen`, `Ordered`), and its `__init__` is compiled on its first
instantiation (~0.15 ms), so a class never instantiated in a run costs no compile at all. Fields must be plain positional ones
(defaults and `default_factory` are fine; no `kw_only`, `InitVar` or `init=False`), and the
class must not write its own `__init__` (`__post_init__` is called as a dataclass would).
Semantics are the dataclass ones: equal when of the same class with equal fields (in order);
ordered by the tuple of fields; assignment after `__init__` raises `FrozenInstanceError`. Two
differences: a record is pickled (and copied) as a call of its constructor, so its
`__post_init__` runs again on unpickling and must give the same result when it does; and no
attribute at all can be assigned on an instance, also on a plain subclass. Field options
`compare`, `repr` and `hash` are refused rather than ignored.
"""
from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from operator import attrgetter
from typing import Callable, TypeVar

T = TypeVar("T", bound=type)


class Record:
    """Equality, hash, repr and pickling of every record, from the tuple of its fields."""

    __slots__ = ()

    def _values(self) -> tuple:
        return self.__record_getter__(self)  # type: ignore[attr-defined]  # an attrgetter: see `record`

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, *self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_fields__)  # type: ignore[attr-defined]
        return f"{self.__class__.__qualname__}({shown})"

    def __reduce__(self):  # noqa: ANN204 - a call of the constructor: ~40 % faster to load than __setstate__
        return self.__class__, self._values()


class Frozen(Record):
    """A record whose fields cannot be assigned after `__init__` (`frozen=True`)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Ordered(Frozen):
    """A frozen record ordered by the tuple of its fields (`order=True`), within its class."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() < other._values()  # type: ignore[attr-defined]

    def __le__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() <= other._values()  # type: ignore[attr-defined]

    def __gt__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() > other._values()  # type: ignore[attr-defined]

    def __ge__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() >= other._values()  # type: ignore[attr-defined]


def record(cls: T | None = None, /, *, slots: bool = True) -> T | Callable[[T], T]:
    """Make `cls` (a subclass of `Record`, usually `Frozen` or `Ordered`) a dataclass whose
    `__init__` is compiled on its first instantiation (see the module's text). `slots=False`
    keeps a `__dict__` (for a record that memoises something in it)."""

    def wrap(cls: T) -> T:
        if not issubclass(cls, Record):
            raise TypeError(f"@record {cls.__qualname__}: derive it from records.Frozen (or Record, Ordered)")
        if "__init__" in cls.__dict__:
            raise TypeError(f"@record {cls.__qualname__}: writes its own __init__; use __post_init__")
        if cls.__doc__ is None:  # else @dataclass writes one from inspect.signature (half its cost)
            cls.__doc__ = f"{cls.__name__}({', '.join(cls.__dict__.get('__annotations__', {}))})"
        made = dataclass(init=False, eq=False, repr=False, slots=slots)(cls)
        names = tuple(f.name for f in fields(made))  # ClassVar pseudo-fields are not fields
        defaulted = False
        for f in fields(made):
            if not f.init or f.kw_only or not f.compare or not f.repr or f.hash is not None:
                raise TypeError(f"@record {cls.__qualname__}.{f.name}: plain positional fields only (no init/kw_only/compare/repr/hash options)")
            if f.name in _RESERVED:
                raise TypeError(f"@record {cls.__qualname__}.{f.name}: a name records use themselves")
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            if defaulted and not has_default:  # what @dataclass says when it writes __init__
                raise TypeError(f"@record {cls.__qualname__}: non-default argument {f.name!r} follows default argument")
            defaulted = defaulted or has_default
        for name, f in made.__dataclass_fields__.items():  # type: ignore[attr-defined]
            if name not in names and "InitVar" in str(f.type):
                raise TypeError(f"@record {cls.__qualname__}.{name}: InitVar is not supported")
        made.__record_fields__ = names  # type: ignore[attr-defined]
        made.__record_getter__ = _tuple_getter(names)  # type: ignore[attr-defined]
        made.__init__ = _first_init  # type: ignore[misc]
        return made

    return wrap if cls is None else wrap(cls)


def _tuple_getter(names: tuple[str, ...]) -> Callable[[object], tuple]:
    """A C-level getter of the tuple of these attributes (nothing to compile)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return staticmethod(lambda obj: (one(obj),))  # type: ignore[return-value]
    return staticmethod(lambda obj: ())  # type: ignore[return-value]


_RESERVED = frozenset({"_values", "__record_fields__", "__record_getter__"})


def _first_init(self: Record, *args: object, **kwargs: object) -> None:
    """A record's `__init__` until its first instantiation compiles the real one."""
    owner = next((c for c in type(self).__mro__ if c.__dict__.get("__init__") is _first_init), None)
    if owner is not None:
        _compile(owner)  # a plain subclass inherits it, as it would a dataclass's
    # else another thread compiled it meanwhile (render workers create facts in threads)
    type(self).__init__(self, *args, **kwargs)


def _compile(cls: type) -> None:
    """The `__init__` of a record, as `@dataclass(frozen=True)` would write it.
    The source text is made only of the class's own field names (identifiers of this
    package), never of anything scanned."""
    scope: dict[str, object] = {"_setattr_": object.__setattr__, "_missing_": MISSING}
    params, body = [], []
    for f in fields(cls):
        name = f.name
        if f.default is not MISSING:
            scope[f"_d_{name}"] = f.default
            params.append(f"{name}=_d_{name}")
            body.append(f"    _setattr_(self, {name!r}, {name})")
        elif f.default_factory is not MISSING:
            scope[f"_f_{name}"] = f.default_factory
            params.append(f"{name}=_missing_")
            body.append(f"    _setattr_(self, {name!r}, _f_{name}() if {name} is _missing_ else {name})")
        else:
            params.append(name)
            body.append(f"    _setattr_(self, {name!r}, {name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    text = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass")
    exec(compile(text, f"{cls.__module__}.{cls.__qualname__} (generated __init__)", "exec"), scope)  # noqa: S102
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    cls.__init__ = init  # type: ignore[misc]
