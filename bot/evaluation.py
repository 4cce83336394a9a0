"""``factbot eval``: run a question file and count what the engine gets right."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.engine import Answer, Engine
from bot.engine.facts import read_yaml
from bot.engine.text import fold
from bot.errors import FactsFileError


@dataclass(frozen=True)
class EvalQuestion:
    """One line of a question file: ``kind: answer`` with ``expect`` strings, or ``kind: abstain``."""

    question: str
    kind: str
    expect: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class EvalResult:
    question: EvalQuestion
    answer: Answer
    passed: bool


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question file (a YAML list of {q, expect, kind}); problems as ``path:line``."""
    data = read_yaml(path)
    if not isinstance(data, list):
        raise FactsFileError([f"{path}:1: expected a list of {{q, expect, kind}} entries"])
    questions: list[EvalQuestion] = []
    problems: list[str] = []
    for item in data:
        line = getattr(item, "line", 1)
        if not isinstance(item, dict) or not isinstance(item.get("q"), str):
            problems.append(f"{path}:{line}: each entry needs a `q` string")
            continue
        kind = item.get("kind", "answer")
        expect = item.get("expect") or []
        if kind not in ("answer", "abstain"):
            problems.append(f"{path}:{line}: `kind` must be answer or abstain")
            continue
        if kind == "answer" and (not isinstance(expect, list) or not expect):
            problems.append(f"{path}:{line}: an answer question needs a non-empty `expect` list")
            continue
        questions.append(EvalQuestion(item["q"], kind, tuple(str(e) for e in expect), line))
    if problems:
        raise FactsFileError(problems)
    return questions


def _normalize(text: str) -> str:
    return " ".join(fold(text).lower().split())


def judge(question: EvalQuestion, answer: Answer) -> bool:
    """Right when an abstain question is declined, or the short answer holds an expected string."""
    if question.kind == "abstain":
        return not answer.answered
    if not answer.answered or not answer.answer:
        return False
    short = _normalize(answer.answer)
    return any(_normalize(e) in short for e in question.expect)


def run_eval(engine: Engine, questions: list[EvalQuestion]) -> list[EvalResult]:
    results = []
    for question in questions:
        answer = engine.ask(question.question)
        results.append(EvalResult(question, answer, judge(question, answer)))
    return results
