"""Email and SMS templates: sandboxed Jinja, stable system keys, required placeholders.

Templates are found by ``key``. System keys are defined here with their default text, the
placeholders they must keep (a portal-link email without ``{{ portal_link }}`` would strand the
client) and the variables they may use; admins edit name, subject and body, and "restore
defaults" brings the text back. Custom templates (for workflows) have keys of their own and no
required placeholders.

Rendering happens in an immutable sandbox with plain dictionaries as context, so a template
can read values but never reach into the application.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from jinja2 import TemplateSyntaxError, meta, nodes, pass_environment, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import escape
from sqlalchemy import func, or_, select

from app.services import links
from app.services.campaign_templates import CAMPAIGN_TEMPLATES, CampaignTemplate
from app.services.errors import ValidationError
from app.services.validation import format_phone
from models import (
    ActionStatus,
    Channel,
    MessageTemplate,
    NotificationRule,
    Record,
    ScheduledAction,
    Workflow,
    WorkflowAction,
    db,
)

#: Variables every template may use.
COMMON_VARIABLES = {
    "record": "the client: first_name, last_name, full_name, display_name, email, company_name",
    "agent": "the assigned agent: full_name, first_name, email, phone",
    "office": "the office: name, email, phone",
    "portal_url": "the portal's sign-in page",
}

SMS_LIMIT = 480  # three SMS segments


@dataclass(frozen=True)
class TemplateSpec:
    key: str
    channel: Channel
    name: str
    subject: str
    body: str
    #: Placeholders the template must keep.
    required: tuple[str, ...] = ()
    #: Extra variables this template may use, with what they hold.
    variables: dict[str, str] = field(default_factory=dict)
    #: Messages from it carry credentials: redacted for staff, blanked after delivery.
    sensitive: bool = False


def _spec(*args: Any, **kwargs: Any) -> TemplateSpec:
    return TemplateSpec(*args, **kwargs)


SYSTEM_TEMPLATES: dict[str, TemplateSpec] = {
    spec.key: spec
    for spec in (
        _spec(
            "portal.link",
            Channel.EMAIL,
            "Self service: portal link",
            "Your secure client portal from {{ office.name }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ agent.full_name or office.name }} has set up a secure client portal for you. "
            "Here you can see your policies and keep your details up to date.\n\n"
            "Your personal portal link:\n{{ portal_link }}\n\n"
            "Your password comes in a separate email. Keep both to yourself: anyone with the "
            "link and the password can see your information.\n\n"
            "{{ agent.full_name or office.name }}\n{{ office.phone or '' }}",
            required=("portal_link",),
            variables={"portal_link": "the client's personal portal link"},
            sensitive=True,
        ),
        _spec(
            "portal.link.sms",
            Channel.SMS,
            "Self service: portal link by text",
            "",
            "{{ office.name }}: your secure client portal is ready: {{ portal_link }} "
            "Your password comes by email.",
            required=("portal_link",),
            variables={"portal_link": "the client's personal portal link"},
            sensitive=True,
        ),
        _spec(
            "portal.password",
            Channel.EMAIL,
            "Self service: password",
            "Your client portal password",
            "Hello {{ record.first_name }},\n\n"
            "Your password for the client portal of {{ office.name }} is:\n\n"
            "    {{ password }}\n\n"
            "Use it with the personal portal link we sent you separately. You can change it "
            "after signing in.\n\n{{ agent.full_name or office.name }}",
            required=("password",),
            variables={"password": "the generated password"},
            sensitive=True,
        ),
        _spec(
            "portal.invitation",
            Channel.EMAIL,
            "Self service: invitation",
            "You are invited to the client portal of {{ office.name }}",
            "Hello {{ person_name }},\n\n"
            "{{ agent.full_name or office.name }} invites you to the client portal of "
            "{{ office.name }}. Accept the invitation and choose your password here:\n\n"
            "{{ invitation_link }}\n\n"
            "The invitation is valid until {{ expires_on }} and can be used once.\n\n"
            "{{ agent.full_name or office.name }}",
            required=("invitation_link",),
            variables={
                "invitation_link": "the single-use sign-up link",
                "person_name": "the invited person's name",
                "expires_on": "the date the invitation expires",
            },
            sensitive=True,
        ),
        _spec(
            "portal.login_code",
            Channel.EMAIL,
            "Sign-in code by email",
            "Your sign-in code: {{ code }}",
            "Your code to sign in to the client portal of {{ office.name }} is:\n\n"
            "    {{ code }}\n\n"
            "It works once, for {{ code_minutes }} minutes. If you did not ask for it, you can "
            "ignore this email.",
            required=("code",),
            variables={"code": "the 6-digit code", "code_minutes": "minutes it stays valid"},
            sensitive=True,
        ),
        _spec(
            "portal.login_code.sms",
            Channel.SMS,
            "Sign-in code by text",
            "",
            "{{ code }} is your {{ office.name }} portal code. It works once, for "
            "{{ code_minutes }} minutes.",
            required=("code",),
            variables={"code": "the 6-digit code", "code_minutes": "minutes it stays valid"},
            sensitive=True,
        ),
        _spec(
            "portal.contact_code",
            Channel.EMAIL,
            "Confirm a new sign-in email address",
            "Your confirmation code: {{ code }}",
            "Hello {{ person_name }},\n\n"
            "To make {{ new_value }} your email address for the client portal of "
            "{{ office.name }}, enter this code on the My details page:\n\n"
            "    {{ code }}\n\n"
            "It works once, for {{ code_minutes }} minutes. If you did not ask for it, ignore "
            "this email: nothing changes.",
            required=("code",),
            variables={
                "code": "the 6-digit code",
                "code_minutes": "minutes it stays valid",
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new address",
            },
            sensitive=True,
        ),
        _spec(
            "portal.contact_code.sms",
            Channel.SMS,
            "Confirm a new sign-in mobile number",
            "",
            "{{ code }} confirms this number for your {{ office.name }} portal. It works once, "
            "for {{ code_minutes }} minutes. Not you? Ignore this text.",
            required=("code",),
            variables={
                "code": "the 6-digit code",
                "code_minutes": "minutes it stays valid",
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new number",
            },
            sensitive=True,
        ),
        _spec(
            "portal.contact_changed",
            Channel.EMAIL,
            "Sign-in email or mobile changed (to the old one)",
            "Your {{ field_label|lower }} for the client portal was changed",
            "Hello {{ person_name }},\n\n"
            "The {{ field_label|lower }} used to sign in to your client portal at "
            "{{ office.name }} was changed to {{ new_value or '(none)' }}.\n\n"
            "If this was not you, call the office{% if office.phone %} at {{ office.phone }}"
            "{% endif %} straight away.",
            variables={
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new value",
            },
        ),
        _spec(
            "portal.contact_changed.sms",
            Channel.SMS,
            "Sign-in mobile changed (to the old number)",
            "",
            "Your {{ field_label|lower }} for the {{ office.name }} portal was changed to "
            "{{ new_value or '(none)' }}. If this was not you, call the office"
            "{% if office.phone %} at {{ office.phone }}{% endif %}.",
            variables={
                "person_name": "the name",
                "field_label": "the field changed",
                "new_value": "the new value",
            },
        ),
        _spec(
            "portal.password_reset",
            Channel.EMAIL,
            "Password reset",
            "Reset your client portal password",
            "Hello {{ person_name }},\n\n"
            "Someone asked to reset the password of your client portal at {{ office.name }}. "
            "If it was you, choose a new password here within the next hour:\n\n"
            "{{ reset_link }}\n\n"
            "If it was not you, ignore this email: your password stays as it is.",
            required=("reset_link",),
            variables={"reset_link": "the one-hour reset link", "person_name": "the name"},
            sensitive=True,
        ),
        _spec(
            "task.reminder",
            Channel.EMAIL,
            "Task reminder",
            "Reminder: {{ task.title }}",
            "Hello {{ staff.first_name or staff.full_name }},\n\n"
            "This reminder is due now: {{ task.title }}\n"
            "{% if task.record %}Record: {{ task.record }}\n{% endif %}"
            "{% if task.notes %}\n{{ task.notes }}\n{% endif %}\n"
            "Your tasks: {{ tasks_url }}",
            variables={
                "task": "the task: title, notes, record (name), due (text)",
                "staff": "the person reminded: full_name, first_name",
                "tasks_url": "their open tasks in the staff panel",
            },
        ),
        _spec(
            "notify.agent",
            Channel.EMAIL,
            "Notification to the agent",
            "{{ event.label }}: {{ record.display_name }}",
            "{{ summary }}\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Open the record: {{ record_url }}",
            variables={
                "event": "the event: key, label",
                "summary": "one line saying what happened",
                "detail_lines": "what changed, line by line",
                "actor": "who acted: label",
                "record_url": "the record's page in the staff panel",
            },
        ),
        _spec(
            "notify.customer",
            Channel.EMAIL,
            "Notification to the client",
            "{{ event.label }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ customer_message }}\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Your portal: {{ portal_url }}\n\n{{ agent.full_name or office.name }}",
            variables={
                "event": "the event: key, label",
                "customer_message": "a sentence for the client about what happened",
                "detail_lines": "what changed, line by line",
            },
        ),
        _spec(
            "notify.customer.sms",
            Channel.SMS,
            "Notification to the client by text",
            "",
            "{{ office.name }}: {{ customer_message }} {{ portal_url }}",
            variables={"customer_message": "a sentence for the client about what happened"},
        ),
        _spec(
            "notify.primary",
            Channel.EMAIL,
            "Notification to the primary applicant",
            "{{ actor.label }}: {{ event.label }}",
            "Hello {{ record.first_name }},\n\n"
            "{{ actor.label }}, who has access to your client portal, did this: "
            "{{ event.label }}.\n\n"
            "{% for line in detail_lines %}{{ line }}\n{% endfor %}\n"
            "Your portal: {{ portal_url }}\n\n{{ office.name }}",
            variables={
                "event": "the event: key, label",
                "actor": "who acted: label",
                "detail_lines": "what changed, line by line",
            },
        ),
    )
}

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_URL = re.compile(r"(https?://[^\s<>\"']+)")


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
def _budgeted() -> Iterator[_Budget]:
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
    from jinja2.filters import do_indent

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


def _fill(source: str, context: dict[str, Any]) -> str:
    """Render ``source`` in the sandbox, streamed, within the render's budget of length,
    loop turns and time: a template that asks for more stops with :class:`RenderLimitError`
    instead of building it."""
    with _budgeted() as budget:
        template = _ENV.from_string(source)
        parts = []
        for chunk in template.generate(**context):
            budget.write(len(chunk))
            parts.append(chunk)
        return "".join(parts)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None
    sensitive: bool
    template_key: str
    channel: Channel


def spec_for(key: str) -> TemplateSpec | None:
    return SYSTEM_TEMPLATES.get(key)


def allowed_variables(key: str) -> dict[str, str]:
    spec = spec_for(key)
    return {**COMMON_VARIABLES, **(spec.variables if spec else {})}


def check_template(key: str, channel: Channel, subject: str, body: str) -> None:
    """Refuse a template that would not render or would lose a required placeholder."""
    if not _KEY.match(key or ""):
        raise ValidationError(
            "Use a key of lower-case letters, digits, dots, dashes or underscores.", field="key"
        )
    spec = spec_for(key)
    if spec and spec.channel != channel:
        raise ValidationError(f"{key} is a {spec.channel.label.lower()} template.", field="channel")
    if not (body or "").strip():
        raise ValidationError("The message needs a body.", field="body")
    if channel == Channel.EMAIL and not (subject or "").strip():
        raise ValidationError("An email needs a subject.", field="subject")
    used: set[str] = set()
    for field_name, source in (("subject", subject or ""), ("body", body)):
        try:
            parsed = _ENV.parse(source)
            used |= set(meta.find_undeclared_variables(parsed))
        except TemplateSyntaxError as exc:
            raise ValidationError(
                f"Line {exc.lineno}: {exc.message}. Check the {{{{ }}}} and {{% %}} pairs.",
                field=field_name,
            ) from None
        except TemplateError as exc:  # an unknown filter or test, found while compiling
            raise ValidationError(f"{exc}.", field=field_name) from None
    allowed = allowed_variables(key)
    unknown = sorted(used - set(allowed))
    if unknown:
        raise ValidationError(
            f"Unknown placeholder {unknown[0]!r}. You can use: " + ", ".join(sorted(allowed)) + ".",
            field="body",
        )
    if spec:
        missing = [name for name in spec.required if name not in used]
        if missing:
            raise ValidationError(
                f"This template must keep {{{{ {missing[0]} }}}}: without it the message "
                "cannot do its job. Put it back, or restore the default text.",
                field="body",
            )
    if channel == Channel.SMS and len(body) > SMS_LIMIT:
        raise ValidationError(
            f"Keep text messages under {SMS_LIMIT} characters ({len(body)} now).", field="body"
        )
    _check_limits(key, subject or "", body)


def _check_limits(key: str, subject: str, body: str) -> None:
    """Fill the template in once with sample values: one that asks for more than a message may
    take (length, loop turns, time) is refused now, not when a worker meets it. Other errors
    depend on the record and show in the preview."""
    context = sample_context(key, None)
    for field_name, source in (("subject", subject), ("body", body)):
        try:
            _fill(source, context)
        except SecurityError as exc:
            raise ValidationError(
                f"This template asks for more than a message may hold: {exc}", field=field_name
            ) from None
        except Exception:  # noqa: S110 - a real record may well fill it in
            pass


def check_new_key(key: str | None) -> str:
    """A tidy key no other template uses."""
    cleaned = (key or "").strip().lower()
    if not _KEY.match(cleaned):
        raise ValidationError(
            "Use a key of lower-case letters, digits, dots, dashes or underscores.", field="key"
        )
    with db.session.no_autoflush:  # the template being created may already be in the session
        taken = db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.key == cleaned))
    if taken is not None:
        raise ValidationError("A template with this key already exists.", field="key")
    return cleaned


def get_template(key: str) -> MessageTemplate | None:
    return db.session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))


def render(key: str, context: dict[str, Any], *, strict: bool = False) -> Rendered:
    """Render the template stored under ``key`` (or its default) in the sandbox. An edited
    system template that fails falls back to its default text, so the message still goes;
    ``strict`` (the preview) raises instead, so the admin sees what is wrong."""
    stored = get_template(key)
    spec = spec_for(key)
    if stored is None and spec is None:
        raise ValidationError(f"There is no template with the key {key!r}.")
    subject = stored.subject if stored else spec.subject  # type: ignore[union-attr]
    body = stored.body if stored else spec.body  # type: ignore[union-attr]
    channel = stored.channel if stored else spec.channel  # type: ignore[union-attr]
    try:
        text, rendered_subject = _render_pair(subject, body, context)
    except Exception as exc:  # whatever the admin's text does, the message is not lost
        if spec is None or stored is None or strict:
            raise ValidationError(f"The template {key} could not be rendered: {exc}") from None
        current_app.logger.warning("template %s failed (%s); using its default text", key, exc)
        text, rendered_subject = _render_pair(spec.subject, spec.body, context)
    html = _html(text, context) if channel == Channel.EMAIL else None
    return Rendered(
        subject=rendered_subject,
        text=text,
        html=html,
        sensitive=bool(spec and spec.sensitive),
        template_key=key,
        channel=channel,
    )


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render a short text (a task title, say) in the same sandbox."""
    try:
        return " ".join(_fill(source, context).split())
    except Exception as exc:  # the sandbox's errors, and 1/0 or a bad filter argument
        raise ValidationError(f"The text could not be filled in: {exc}") from None


def _render_pair(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    with _budgeted():
        text = _fill(body, context).strip() + "\n"
        rendered_subject = " ".join(_fill(subject, context).split())
    return text, rendered_subject


def _html(text: str, context: dict[str, Any]) -> str:
    """A simple HTML part from the text: paragraphs, line breaks and live links."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = str(escape(block))
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    office = escape(context.get("office", {}).get("name", ""))
    return (
        '<!doctype html><html><body style="font-family:Arial,Helvetica,sans-serif;'
        'font-size:15px;line-height:1.5;color:#1f2933">'
        + "\n".join(paragraphs)
        + f'<p style="color:#6b7280;font-size:12px">{office}</p></body></html>'
    )


# -- the stored templates ----------------------------------------------------------------------


def default_of(key: str) -> TemplateSpec | CampaignTemplate | None:
    """The text ``key`` can be restored to: a system template's, or the sample campaigns'."""
    return SYSTEM_TEMPLATES.get(key) or CAMPAIGN_TEMPLATES.get(key)


def restore_defaults(keys: Iterable[str] | None = None) -> list[str]:
    """Put back the default text of ``keys`` (all system templates when None), creating
    missing ones; keys without a default are left out. Returns the keys restored."""
    wanted = list(keys) if keys is not None else list(SYSTEM_TEMPLATES)
    restored = []
    for key in wanted:
        default = default_of(key)
        if default is None:
            continue
        stored = get_template(key)
        if stored is None:
            stored = MessageTemplate(key=key, channel=default.channel)
            db.session.add(stored)
        stored.name = default.name
        stored.subject = default.subject
        stored.body = default.body
        restored.append(key)
    db.session.flush()
    return restored


def ensure_defaults() -> list[str]:
    """Create the system templates that are missing; never touch edited ones."""
    existing = set(db.session.scalars(select(MessageTemplate.key)))
    return restore_defaults([key for key in SYSTEM_TEMPLATES if key not in existing])


def restore_missing() -> list[str]:
    """The staff panel's "Restore missing defaults": create the system templates that are
    missing, never touching edited ones. The sample campaigns' templates are not system
    templates: an office adds them back on purpose, with :func:`add_samples`."""
    return ensure_defaults()


def is_sample(key: str) -> bool:
    """Is ``key`` one of the sample campaigns' templates?"""
    return key in CAMPAIGN_TEMPLATES


def samples() -> list[tuple[CampaignTemplate, MessageTemplate | None]]:
    """Each sample campaign template, with the office's template under its key (None when
    the office deleted it or never had it)."""
    stored = {
        template.key: template
        for template in db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.key.in_(CAMPAIGN_TEMPLATES))
        )
    }
    return [(sample, stored.get(key)) for key, sample in CAMPAIGN_TEMPLATES.items()]


def missing_samples() -> list[str]:
    """The keys of the sample campaign templates the office does not have."""
    return [sample.key for sample, stored in samples() if stored is None]


def add_samples(keys: Iterable[str] | None = None) -> list[str]:
    """Add the sample campaign templates of ``keys`` (every one when None) that the office
    does not have, with the text they were seeded with; those it has stay as they are, edits
    and all. Works whether or not the office ever had them. Returns the keys added."""
    wanted = list(CAMPAIGN_TEMPLATES) if keys is None else list(dict.fromkeys(keys))
    unknown = [key for key in wanted if key not in CAMPAIGN_TEMPLATES]
    if unknown:
        raise ValidationError(f"There is no sample template with the key {unknown[0]!r}.")
    absent = set(missing_samples())
    return restore_defaults([key for key in wanted if key in absent])


def check_delete(template: MessageTemplate) -> None:
    """Refuse to delete a system template, or one that a workflow, a scheduled action or a
    notification rule still sends: the message would fail when its time comes, unseen."""
    key = template.key
    if is_system(key):
        raise ValidationError(
            f"{key} is a system template: edit it or restore its default text instead of "
            "deleting it."
        )
    workflows = list(
        db.session.scalars(
            select(Workflow.name)
            .join(WorkflowAction, WorkflowAction.workflow_id == Workflow.id)
            .where(WorkflowAction.template_key == key)
            .distinct()
            .order_by(Workflow.name)
        )
    )
    if workflows:
        raise ValidationError(
            f"“{template.name}” is sent by the workflow{'s' if len(workflows) > 1 else ''} "
            + ", ".join(f"“{name}”" for name in workflows)
            + ". Choose another template in their actions first, then delete it."
        )
    pending = db.session.scalar(
        select(func.count())
        .select_from(ScheduledAction)
        .where(
            ScheduledAction.status == ActionStatus.PENDING,
            ScheduledAction.params["template_key"].as_string() == key,
        )
    )
    if pending:
        raise ValidationError(
            f"“{template.name}” is still to be sent by {pending} scheduled "
            f"action{'s' if pending > 1 else ''} of runs under way. Cancel them under "
            "Scheduled actions first, then delete it."
        )
    rule_columns = (
        NotificationRule.agent_template_key,
        NotificationRule.customer_template_key,
        NotificationRule.customer_sms_template_key,
        NotificationRule.primary_template_key,
    )
    events = list(
        db.session.scalars(
            select(NotificationRule.event_key)
            .where(or_(*(column == key for column in rule_columns)))
            .order_by(NotificationRule.event_key)
        )
    )
    if events:
        from app.services.events import CATALOGUE  # events render through this module

        labels = [CATALOGUE[key].label if key in CATALOGUE else key for key in events]
        raise ValidationError(
            f"“{template.name}” is used by the notification rule"
            f"{'s' if len(events) > 1 else ''} for "
            + ", ".join(f"“{label}”" for label in labels)
            + ". Choose another template there first, then delete it."
        )


def missing(keys: Iterable[str | None]) -> set[str]:
    """Those of ``keys`` no message can be made from: no stored template and no system
    default (a system template renders from its default even when its row is gone)."""
    wanted = {key for key in keys if key}
    if not wanted:
        return set()
    stored = set(
        db.session.scalars(select(MessageTemplate.key).where(MessageTemplate.key.in_(wanted)))
    )
    return {key for key in wanted if key not in stored and key not in SYSTEM_TEMPLATES}


def is_system(key: str) -> bool:
    return key in SYSTEM_TEMPLATES


# -- context ------------------------------------------------------------------------------------


def reply_address(record: Record | None) -> str | None:
    """Where a client's reply to our mail goes: their active agent, else the office."""
    agent = record.assigned_agent if record else None
    if agent is not None and agent.active:
        return str(agent.email)
    return office_context()["email"] or None


def office_context() -> dict[str, Any]:
    from app.services.portal_settings import get_settings

    settings = get_settings()
    return {
        "name": settings.portal_name,
        "email": settings.office_email or "",
        "phone": format_phone(settings.office_phone),
    }


def base_context(record: Record | None) -> dict[str, Any]:
    """What every template can use, as plain values (the sandbox never sees models)."""
    context: dict[str, Any] = {
        "office": office_context(),
        "portal_url": links.portal(),
        "record": {},
        "agent": {"full_name": "", "first_name": "", "email": "", "phone": ""},
    }
    if record is not None:
        context["record"] = {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "full_name": record.full_name,
            "display_name": record.display_name,
            "email": record.email or "",
            "company_name": record.company_name or "",
        }
        agent = record.assigned_agent
        if agent is not None:
            context["agent"] = {
                "full_name": agent.full_name,
                "first_name": agent.first_name,
                "email": agent.email,
                "phone": format_phone(agent.phone),
            }
    return context


#: Stands in for the secret part of a link in a preview (the real one is made when sent).
SAMPLE_LINK_PART = "made-when-sent"


def sample_context(key: str, record: Record | None) -> dict[str, Any]:
    """Context for a preview: real record values, stand-ins for secrets."""
    samples: dict[str, Any] = {
        "portal_link": links.portal_link(SAMPLE_LINK_PART),
        "password": "(generated when sent)",
        "invitation_link": links.invitation(SAMPLE_LINK_PART),
        "reset_link": links.password_reset(SAMPLE_LINK_PART),
        "code": "123456",
        "code_minutes": 10,
        "person_name": record.full_name if record else "Pat Example",
        "expires_on": "(the expiry date)",
        "event": {"key": "portal.profile.updated", "label": "Personal details updated"},
        "summary": "Pat Example updated their personal details.",
        "customer_message": "We received your changes.",
        "detail_lines": ["Phone: (202) 555-0143 → (202) 555-0199"],
        "actor": {"label": "Pat Example"},
        "record_url": links.record(record.id if record else 1),
    }
    context = base_context(record)
    for name in allowed_variables(key):
        if name not in context and name in samples:
            context[name] = samples[name]
    return context
