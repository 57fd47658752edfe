"""The sandbox templates render in, and what one render may spend.

An immutable Jinja sandbox with plain dictionaries as context: a template can read values but
never reach into the application. On top of Jinja's own sandbox, every render has a budget
(characters written, loop turns, seconds) and the operators, filters and string methods that
could build a huge text are kept to message size, so a worker never spends minutes or gigabytes
on one message (``"x" * 10**9``, ``'%050000000d'|format(1)``, loops in loops).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import meta, nodes, pass_environment, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.filters import do_indent
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: Limits on what a template may build: messages are short, and a worker must not spend
#: minutes or gigabytes on one (``"x" * 10**9``, ``'%050000000d'|format(1)``, loops in loops).
MAX_REPEAT = 10_000
MAX_EXPONENT = 100
MAX_RANGE = 1_000
#: Characters one render may write (the message itself, and any text a block or macro
#: builds on the way), and the largest text or list any single step may make.
MAX_OUTPUT = 100_000
#: Turns of all the template's loops together, per render.
MAX_LOOP_STEPS = 20_000
#: Seconds one render may take.
RENDER_SECONDS = 2.0


class RenderLimitError(SecurityError):
    """A template asked for more than a message may take: too long, too many loops, too slow."""


@dataclass
class _Budget:
    """What one render has spent so far."""

    deadline: float
    written: int = 0
    steps: int = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise RenderLimitError(
                f"The template took longer than {RENDER_SECONDS:g} seconds to fill in."
            )

    def write(self, size: int) -> None:
        self.written += size
        if self.written > MAX_OUTPUT:
            raise RenderLimitError(f"The message would be longer than {MAX_OUTPUT:,} characters.")
        self.check_time()

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_LOOP_STEPS:
            raise RenderLimitError(f"The template's loops turn more than {MAX_LOOP_STEPS:,} times.")
        self.check_time()


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def budgeted() -> Iterator[_Budget]:
    """A fresh budget for one render (nested renders share the outer one)."""
    outer = _BUDGET.get()
    if outer is not None:
        yield outer
        return
    budget = _Budget(deadline=time.monotonic() + RENDER_SECONDS)
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _spend_time() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.check_time()


def _size(value: Any, depth: int = 0) -> int:
    """Roughly how many characters a value stands for (a list: its items, counted)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple | set | frozenset) and depth < 3:
        total = len(value)
        for item in value:
            total += _size(item, depth + 1)
            if total > MAX_OUTPUT:
                break
        return total
    if isinstance(value, dict) and depth < 3:
        return len(value) + sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in value.items())
    return 1


def _too_long(size: int) -> None:
    if size > MAX_OUTPUT:
        raise RenderLimitError(f"That makes a text longer than {MAX_OUTPUT:,} characters.")


class _Buffer(list[Any]):
    """The text a block, macro or ``{% set %}`` builds, counted against the render's budget
    as it is written rather than once it is whole."""

    def append(self, item: Any) -> None:
        self._spend(item)
        super().append(item)

    def extend(self, items: Iterable[Any]) -> None:
        items = tuple(items)
        for item in items:
            self._spend(item)
        super().extend(items)

    @staticmethod
    def _spend(item: Any) -> None:
        budget = _BUDGET.get()
        if budget is not None:
            budget.write(len(item) if isinstance(item, str) else 1)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's compiler, with block buffers that count what they hold and ``~`` that checks
    the length before it joins."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.checked_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


class MessageEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with repetition, powers, ranges, output, loops and time kept to message
    size."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    #: String methods that pad or substitute to any size asked for ("x".ljust(10**9)).
    unsafe_str_methods = frozenset(
        {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map", "replace"}
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _small_range
        self.globals.pop("lipsum", None)  # paragraphs of filler on demand
        self.filters.pop("urlize", None)  # its target and rel repeat per link; HTML links itself
        self.filters["replace"] = _bounded_replace
        self.filters["center"] = _bounded_width(self.filters["center"])
        self.filters["indent"] = _bounded_indent
        self.filters["wordwrap"] = _bounded_wordwrap(self.filters["wordwrap"])
        self.filters["format"] = _bounded_format
        self.filters["join"] = _bounded_join(self.filters["join"])
        self.filters["batch"] = _bounded_count(self.filters["batch"])
        self.filters["slice"] = _bounded_count(self.filters["slice"])
        self.filters["_counted"] = _counted

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Every ``{% for %}`` counts its turns against the render's budget."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_counted", [], [], None, None, lineno=loop.lineno)
        tree.set_environment(self)
        return tree

    @staticmethod
    def new_buffer() -> _Buffer:
        return _Buffer()

    @staticmethod
    def checked_parts(parts: tuple[Any, ...]) -> tuple[Any, ...]:
        _too_long(sum(_size(part) if isinstance(part, str) else len(str(part)) for part in parts))
        return parts

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in self.unsafe_str_methods:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend_time()
        value = super().getattr(obj, attribute)
        _too_long(_size(value))
        return value

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend_time()
        value = super().getitem(obj, argument)
        _too_long(_size(value))
        return value

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend_time()
        value = super().call(__context, __obj, *args, **kwargs)
        _too_long(_size(value))
        return value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not _number(left) or not _number(right):
                raise SecurityError("Only numbers can be raised to a power.")
            if abs(right) > MAX_EXPONENT or abs(left) > 10**MAX_EXPONENT:
                raise SecurityError("That power is too large for a message.")
            return left**right
        if operator == "*":
            for text, times in ((left, right), (right, left)):
                repeated = isinstance(text, str | list | tuple) and isinstance(times, int)
                if repeated and len(text) * max(times, 0) > MAX_REPEAT:
                    raise SecurityError("That repeats too much for a message.")
                if repeated:
                    _too_long(_size(text) * max(times, 0))
        if operator == "+" and not (_number(left) and _number(right)):
            _too_long(_size(left) + _size(right))
        if operator == "%" and isinstance(left, str):
            _check_placeholders(left, right)
        return super().call_binop(context, operator, left, right)


def _too_big(size: int) -> None:
    if size > MAX_REPEAT:
        raise SecurityError("That makes the text too long for a message.")


# printf-style placeholders: %[(name)][flags][width][.precision]type
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_placeholders(text: str, values: Any) -> None:
    """``'%050000000d' % 1`` pads to 50 MB: keep widths and precisions message-sized, and
    what the placeholders bring in."""
    found = _PLACEHOLDER.findall(text)
    for width, precision in found:
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_REPEAT):
                raise SecurityError("That pads the text too much for a message.")
    if isinstance(values, dict):
        largest = max((_size(value) for value in values.values()), default=0)
    elif isinstance(values, tuple):
        largest = max((_size(value) for value in values), default=0)
    else:
        largest = _size(values)
    _too_long(len(text) + len(found) * largest)


def _bounded_format(value: Any, *args: Any, **kwargs: Any) -> str:
    if args and kwargs:
        raise SecurityError("Give format() either positions or names, not both.")
    text = str(value)
    _check_placeholders(text, kwargs or args)
    return text % (kwargs or args)


def _bounded_join(original: Any) -> Any:
    """``join`` whose separator times the items stays message-sized."""

    @pass_eval_context
    def bounded(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
        items = list(value)
        separator = len(str(d)) * max(len(items) - 1, 0)
        _too_long(separator + (0 if attribute is not None else _size(items)))
        joined = original(eval_ctx, items, d, attribute)
        _too_long(len(joined))
        return joined

    return bounded


def _bounded_indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(s)
    step = len(width) if isinstance(width, str) else int(width)
    _too_big(step)
    _too_long(len(text) + (text.count("\n") + 1) * step)
    return do_indent(text, width, first, blank)


def _bounded_wordwrap(original: Any) -> Any:
    """``wordwrap`` with a message-sized width and a break string that cannot multiply."""

    @pass_environment
    def bounded(environment: Any, s: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
        _too_big(abs(int(width)))
        wrapstring = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
        text = str(s)
        breaks = len(text) // max(int(width), 1) + text.count(" ") + text.count("\n") + 1
        _too_long(len(text) + breaks * len(str(wrapstring)))
        return original(environment, s, width, *args, **kwargs)

    return bounded


def _bounded_count(original: Any) -> Any:
    """``batch``/``slice`` whose count (and so the filler it adds) stays message-sized."""

    def bounded(value: Any, count: int, *args: Any, **kwargs: Any) -> Any:
        _too_big(abs(int(count)))
        return original(value, count, *args, **kwargs)

    return bounded


def _counted(iterable: Any) -> Iterator[Any]:
    """The loop filter every ``{% for %}`` goes through: each turn counts."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.step()
        yield item


@pass_eval_context
def _bounded_replace(eval_ctx: Any, text: Any, old: Any, new: Any, count: int | None = None) -> Any:
    text, old, new = str(text), str(old), str(new)
    _too_big(len(text) + text.count(old) * len(new))
    return text.replace(old, new, -1 if count is None else count)


def _bounded_width(original: Any) -> Any:
    """A padding or wrapping filter whose width argument stays message-sized."""

    def bounded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                _too_big(abs(value))
        return original(*args, **kwargs)

    for attribute in ("jinja_pass_arg",):
        if hasattr(original, attribute):
            setattr(bounded, attribute, getattr(original, attribute))
    return bounded


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _small_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"A range in a message may have at most {MAX_RANGE} numbers.")
    return numbers


_ENV = MessageEnvironment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


def fill(source: str, context: dict[str, Any]) -> str:
    """Render ``source`` in the sandbox, streamed, within the render's budget of length,
    loop turns and time: a template that asks for more stops with :class:`RenderLimitError`
    instead of building it."""
    with budgeted() as budget:
        template = _ENV.from_string(source)
        parts = []
        for chunk in template.generate(**context):
            budget.write(len(chunk))
            parts.append(chunk)
        return "".join(parts)


def variables_used(source: str) -> set[str]:
    """The names ``source`` reads from its context. Raises Jinja's ``TemplateSyntaxError``
    (or another ``TemplateError``: an unknown filter or test) when it does not compile."""
    return set(meta.find_undeclared_variables(_ENV.parse(source)))
