"""Render chat templates as transformers' ``apply_chat_template`` does, safely.

A chat template is Jinja code from a model download, so it runs in Jinja2's
``ImmutableSandboxedEnvironment`` (no ``__subclasses__`` walks, no attribute writes, no
``os``), with the environment transformers gives it: ``trim_blocks``, ``lstrip_blocks``, the
``loopcontrols`` extension, the ``{% generation %}`` tag, a ``tojson`` that keeps non-ASCII
text, and the globals ``raise_exception`` and ``strftime_now``.

Beyond the sandbox, a render has budgets, so that a hostile template cannot hang the app or
fill its memory: at most :data:`MAX_STEPS` executed Python lines, and no string, list or
output longer than :data:`MAX_LENGTH` built by ``~``, ``+``, ``*``, ``%``, a call or a filter.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

MAX_STEPS = 1_000_000
MAX_LENGTH = 1_000_000
MAX_TEMPLATE_CHARS = 2**18  # published chat templates are a few thousand characters
# A call or filter whose two largest arguments (the string it is called on included) weigh
# more together than this is refused: replace, join, indent and the like can make a result
# about that large before anything could check it.
MAX_PRODUCT = 10 * MAX_LENGTH
# '%' and str.format fields with a width or precision of a million or more
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(?:\d{7,}|\d*\.\d{7,})")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


class TemplateLimitError(Exception):
    """A template went past a render budget (steps or length)."""


class _OutOfSteps(BaseException):
    """Raised by the line tracer; a BaseException so no ``except Exception`` inside a filter
    can swallow it (the tracer only fires once)."""


def _weight(value: Any, limit: int = MAX_LENGTH) -> int:
    """Characters and items a value stands for (strings inside lists count), counted until
    past ``limit``: a list of a million references to one long string weighs its text."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        items: Any = (*value.keys(), *value.values())
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = value
    else:
        return 1
    total = len(items)
    for item in items:
        if total > limit:
            break
        total += _weight(item, limit)
    return total


def _check_length(value: Any, what: str) -> Any:
    weight = _weight(value)
    if weight > MAX_LENGTH:
        raise TemplateLimitError(
            f"{what} made a value of {weight:,} items (at most {MAX_LENGTH:,})"
        )
    return value


def _check_product(values: Any, what: str) -> None:
    weights = sorted(_weight(v) for v in values if isinstance(v, (str, bytes, list, tuple, dict)))
    if len(weights) > 1 and weights[-1] * weights[-2] > MAX_PRODUCT:
        raise TemplateLimitError(
            f"{what} got arguments of {weights[-1]:,} and {weights[-2]:,} items, which could "
            f"make a result of up to {weights[-1] * weights[-2]:,}"
        )


def _check_numbers(args: tuple[Any, ...], kwargs: Mapping[str, Any], what: str) -> None:
    """Refuse huge numbers (widths, counts) as arguments: they would size a huge string."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and abs(value) > MAX_LENGTH:
            raise TemplateLimitError(f"{what} got the number {value} (at most {MAX_LENGTH:,})")


def _check_format(text: Any, what: str, pattern: re.Pattern[str] = _PERCENT_WIDTH) -> None:
    if isinstance(text, str) and pattern.search(text):
        raise TemplateLimitError(f"{what} has a format asking for a huge width")


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` to a length-checked join (Jinja's own join is unchecked)."""

    def visit_Concat(self, node: nodes.Concat, frame: Any) -> None:  # noqa: N802 (Jinja's name)
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _GenerationTag(Extension):
    """``{% generation %}...{% endgeneration %}`` renders its body (transformers marks the
    assistant's tokens with it; LlamaLens only needs the text)."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

    def _body(self, caller: Callable[[], str]) -> str:
        return caller()


class _TemplateNamespace(Namespace):
    """``namespace()`` that refuses underscore names, as transformers' does."""

    def __init__(*args: Any, **kwargs: Any) -> None:  # noqa: N805 (Namespace's own signature)
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _TemplateNamespace._check_name(name)
        Namespace.__init__(self, attrs)

    def __setitem__(self, name: str, value: Any) -> None:
        _TemplateNamespace._check_name(name)
        Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check_name(name: Any) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise jinja2.exceptions.SecurityError(
                f"a namespace cannot hold the underscore name {name!r}"
            )


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and right * abs(left).bit_length() > 4096:
                raise TemplateLimitError(f"{left} ** {right} is too large")
        elif operator == "*":
            seq, times = (left, right) if isinstance(right, int) else (right, left)
            sized = isinstance(seq, (str, list, tuple)) and isinstance(times, int)
            if sized and _weight(seq) * times > MAX_LENGTH:
                raise TemplateLimitError(f"'*' would make {_weight(seq) * times:,} items")
        elif operator == "%":
            _check_format(left, "'%'")
        return _check_length(super().call_binop(context, operator, left, right), operator)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_numbers(args, kwargs, "a call")
        _check_product((getattr(__obj, "__self__", None), *args, *kwargs.values()), "a call")
        return _check_length(super().call(__context, __obj, *args, **kwargs), "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # value is the bound str.format / format_map
            _check_format(value.__self__, "str.format", _BRACE_WIDTH)
        return wrapped

    def bounded_join(self, parts: tuple[Any, ...]) -> str:
        return _check_length("".join(map(str, parts)), "'~'")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # Jinja passes the context or environment first to filters marked for it, then the value
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1

    @wraps(function)  # keeps Jinja's pass_context / pass_environment mark
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_numbers(args[skip:], kwargs, f"filter '{name}'")
        _check_product((*args[skip - 1 :], *kwargs.values()), f"filter '{name}'")
        if name == "format":
            _check_format(args[skip - 1], f"filter '{name}'")
        return _check_length(function(*args, **kwargs), f"filter '{name}'")

    return bounded


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(format: str) -> str:
    return datetime.now().strftime(format)


class _TemplateDict:
    """``dict`` for templates: builds dicts, exposes nothing else (as in transformers)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


@lru_cache(maxsize=1)
def _environment() -> _Sandbox:
    env = _Sandbox(trim_blocks=True, lstrip_blocks=True, extensions=[_GenerationTag, loopcontrols])
    env.filters["tojson"] = _tojson
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.globals.update(
        raise_exception=_raise_exception,
        strftime_now=_strftime_now,
        dict=_TemplateDict(),
        namespace=_TemplateNamespace,
    )
    return env


@lru_cache(maxsize=32)
def compile_template(source: str) -> jinja2.Template:
    """The compiled template (cached, like transformers').

    Raises:
        ValueError: the source is not a valid Jinja template (with the line number).
    """
    if len(source) > MAX_TEMPLATE_CHARS:
        raise ValueError(
            f"is {len(source):,} characters long; a chat template has at most "
            f"{MAX_TEMPLATE_CHARS:,}"
        )
    try:
        return _environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"does not compile (line {exc.lineno}: {exc.message})") from None
    except (RecursionError, SyntaxError, MemoryError, ValueError, OverflowError) as exc:
        # nesting too deep for Jinja's parser or Python's compiler
        raise ValueError(f"does not compile ({type(exc).__name__}: {exc})") from None


def render_template(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    """Render within the budgets.

    Raises:
        ValueError: the template raised (``raise_exception``, an undefined operation, a
            sandbox violation) or went past a budget; the message says which.
    """
    steps = 0

    def count(frame: Any, event: str, arg: Any) -> Any:
        nonlocal steps
        if frame.f_code.co_filename == __file__:
            return None  # the budget checks themselves are not the template's steps
        steps += 1
        if steps > MAX_STEPS:
            raise _OutOfSteps
        return count

    previous = sys.gettrace()
    sys.settrace(count)
    try:
        parts: list[str] = []
        length = 0
        for part in template.generate(**variables):
            length += len(part)
            if length > MAX_LENGTH:
                raise TemplateLimitError(f"the output is longer than {MAX_LENGTH:,} characters")
            parts.append(part)
        return "".join(parts)
    except _OutOfSteps:
        raise ValueError(f"ran for more than {MAX_STEPS:,} steps and was stopped") from None
    except jinja2.exceptions.SecurityError as exc:
        raise ValueError(f"tried something the sandbox forbids ({exc})") from None
    except (jinja2.TemplateError, TemplateLimitError) as exc:
        raise ValueError(str(exc)) from None
    except (TypeError, ValueError, LookupError, ArithmeticError, RecursionError) as exc:
        raise ValueError(f"failed ({type(exc).__name__}: {exc})") from None
    finally:
        sys.settrace(previous)
