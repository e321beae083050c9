"""Records (safeai_lint/records.py) behave as frozen dataclasses, at a fraction of their
start-up cost: the `__init__` of a class is compiled on its first instantiation only."""
from __future__ import annotations

import dataclasses
import pickle
from dataclasses import field

import pytest

from safeai_lint.facts import FileFacts, Location, VersionDecl
from safeai_lint.records import Frozen, Ordered, _first_init, record


@record
class Point(Ordered):
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


@record(slots=False)
class Memo(Frozen):
    name: str

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", "unnamed")


def test_a_fact_is_a_frozen_slotted_dataclass() -> None:
    loc = Location("a.txt", 3)
    decl = VersionDecl("torch", "==2.1.0", loc, surface="requirements")
    assert (decl.component, decl.location, decl.surface, decl.resolved, decl.local) == ("torch", loc, "requirements", False, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decl.component = "numpy"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del decl.component
    with pytest.raises(TypeError):
        VersionDecl("torch")  # type: ignore[call-arg]  # required fields stay required
    changed = dataclasses.replace(decl, component="numpy")
    assert changed.component == "numpy" and decl.component == "torch"
    assert pickle.loads(pickle.dumps(decl)) == decl and hash(pickle.loads(pickle.dumps(decl))) == hash(decl)
    assert [f.name for f in dataclasses.fields(VersionDecl)][:3] == ["component", "specifier", "location"]
    assert dataclasses.is_dataclass(decl) and not hasattr(decl, "__dict__")  # slots
    first, second = FileFacts("p", "k"), FileFacts("p", "k")
    assert first == second and first.lines is not second.lines  # default_factory: a fresh dict each


def test_equality_hash_repr_and_order_are_the_dataclass_ones() -> None:
    a, b = Point(1, 2), Point(1, 2)
    assert a == b and a is not b and a != Point(2, 1)
    with pytest.raises(TypeError):
        hash(a)  # a list field: unhashable, as a frozen dataclass with a list would be
    assert repr(Point(1)) == "Point(x=1, y=0, tags=[])"
    assert sorted([Point(2), Point(1, 5), Point(1, 2)]) == [Point(1, 2), Point(1, 5), Point(2)]
    assert Point(1) != (1, 0, [])  # another class is never equal
    with pytest.raises(TypeError):
        Point(1) < (1, 0)  # type: ignore[operator]
    locs = {Location("a", 1), Location("a", 1), Location("a", 2)}
    assert len(locs) == 2
    assert Location("a", 2, 5) < Location("a", 3) < Location("b", 1)


def test_post_init_runs_and_dict_is_kept_without_slots() -> None:
    assert Memo("").name == "unnamed"
    memo = Memo("x")
    object.__setattr__(memo, "_cached", 1)  # what View does to memoise its index
    assert memo.__dict__["_cached"] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        memo.name = "y"  # type: ignore[misc]


def test_init_is_compiled_on_first_instantiation_only() -> None:
    @record
    class Late(Frozen):
        a: int
        b: str = "b"

    assert Late.__init__ is _first_init  # nothing compiled at definition
    assert Late(1).b == "b"
    assert Late.__init__ is not _first_init and Late.__init__.__qualname__.endswith("Late.__init__")
    assert Late(a=2, b="c") == Late(2, "c")
    with pytest.raises(TypeError):
        Late(1, "b", 3)  # type: ignore[call-arg]


def test_a_plain_subclass_inherits_the_record_init() -> None:
    @record
    class Base(Frozen):
        a: int

    class Child(Base):
        __slots__ = ()

    assert Child(1).a == 1 and Base(1).a == 1
    assert Child(1) != Base(1)  # equality is within one class


def test_unsupported_shapes_are_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="derive it from"):
        @record
        class NotARecord:  # noqa: F841
            a: int

    with pytest.raises(TypeError, match="own __init__"):
        @record
        class OwnInit(Frozen):  # noqa: F841
            a: int

            def __init__(self, a: int) -> None:  # noqa: D107
                object.__setattr__(self, "a", a)

    with pytest.raises(TypeError, match="plain positional"):
        @record
        class KwOnly(Frozen):  # noqa: F841
            a: int = field(kw_only=True)


def test_records_of_one_field_and_of_none_compare_by_their_fields() -> None:
    @record
    class One(Frozen):
        a: int

    @record
    class Empty(Frozen):
        pass

    assert One(1) == One(1) and One(1) != One(2) and hash(One(1)) == hash(One(1))
    assert pickle.loads(pickle.dumps(Point(3))) == Point(3)
    assert Empty() == Empty() and repr(Empty()).endswith(".Empty()") and len({Empty(), Empty()}) == 1


def test_first_instantiations_from_many_threads_all_succeed() -> None:
    """Render workers create facts in threads: the first instantiations of a record may race
    to compile its __init__; every one of them must still build the object."""
    import sys
    import threading

    made: list[type] = []
    for n in range(200):
        @record
        class Fresh(Frozen):
            a: int
            b: str = "b"

        made.append(Fresh)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for cls in made:
            try:
                assert cls(1).a == 1
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(exc)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # interleave the threads as much as possible
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert errors == []


def test_more_shapes_dataclasses_would_treat_otherwise_are_refused() -> None:
    with pytest.raises(TypeError, match="follows default argument"):
        @record
        class Order(Frozen):  # noqa: F841
            a: int = 1
            b: str

    with pytest.raises(TypeError, match="records use themselves"):
        @record
        class Clash(Frozen):  # noqa: F841
            _values: tuple

    with pytest.raises(TypeError, match="plain positional"):
        @record
        class NotCompared(Frozen):  # noqa: F841
            a: int = field(default=0, compare=False)
