"""The ``factbot`` command: build, check, ask, chat, eval, run, serve, digest.

Slack libraries are imported only by ``serve``, ``run`` (when tokens are set) and ``digest``,
so answering from the command line starts fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from bot.errors import FactBotError
from bot.settings import Settings

logger = logging.getLogger(__name__)


def _engine(args: argparse.Namespace):
    from bot.engine import Engine

    return Engine.load(args.facts, args.seeds)


def format_answer(answer) -> str:
    """The plain-text rendering used by ``ask`` and ``chat``."""
    if not answer.answered:
        lines = ["I can't answer that from the articles I know."]
        if answer.suggestions:
            lines.append("I can tell you about:")
            lines.extend(f"  - {s}" for s in answer.suggestions)
        return "\n".join(lines)
    source = answer.source
    return "\n".join(
        [
            answer.answer,
            f"  “{answer.quote}”",
            f"  — {source.title}, paragraph {source.paragraph}",
        ]
    )


def cmd_build(args: argparse.Namespace) -> int:
    from bot.engine import build_index

    report = build_index(args.seeds, args.facts)
    print(f"built {report.facts} facts from {report.articles} articles into {args.facts}/")
    for orphan in report.orphans:
        print(
            f"{orphan.path}: curated fact {orphan.fact_id} no longer matches the article "
            "(kept under `orphaned:`)"
        )
        print(f"    was: {orphan.quote}")
    for path in report.removed:
        print(f"removed {path} (its article is gone)")
    for path in report.kept_for_curation:
        print(
            f"{path}: its article is gone, but it holds curated facts: kept; delete it or restore the article"
        )
    from bot.engine import Engine

    # Compile the index and embed the facts now (only new or changed ones), so the first question
    # after a build does not pay for it.
    engine = Engine.load(args.facts, args.seeds)
    print("semantic search: " + ("on" if engine.semantic else "off (the embedding model is not installed)"))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from bot.check import check_index

    problems, warnings = check_index(args.facts, args.seeds)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"{args.facts}/: all facts check out")
    return 0


def _answer_lines(engine, questions: Iterable[str], as_json: bool, out: TextIO) -> None:
    for line in questions:
        question = line.strip()
        if not question:
            continue
        answer = engine.ask(question)
        if as_json:
            out.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            out.write(format_answer(answer) + "\n\n")
        out.flush()


def cmd_ask(args: argparse.Namespace) -> int:
    engine = _engine(args)
    question = " ".join(args.question)
    if question == "-":
        _answer_lines(engine, sys.stdin, args.json, sys.stdout)
        return 0
    if not question.strip():
        print(
            'factbot ask: give a question, e.g. factbot ask "When was the US-Japan treaty signed?"',
            file=sys.stderr,
        )
        return 2
    answer = engine.ask(question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    engine = _engine(args)
    return run_console(engine, sys.stdin, sys.stdout)


def run_console(engine, source: TextIO, out: TextIO) -> int:
    """The local console: one question per line, answered until end of input."""
    interactive = source.isatty()
    if interactive:
        out.write("FactBot console: ask a question about the articles (Ctrl-D to quit).\n")
    while True:
        if interactive:
            out.write("> ")
            out.flush()
        line = source.readline()
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        out.write(format_answer(engine.ask(question)) + "\n\n")
        out.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation import load_questions, run_eval

    engine = _engine(args)
    results = run_eval(engine, load_questions(args.file))
    for result in results:
        if result.passed:
            continue
        q, a = result.question, result.answer
        got = a.answer if a.answered else "(declined)"
        want = "decline" if q.kind == "abstain" else " | ".join(q.expect)
        print(f"{args.file}:{q.line}: MISS {q.question!r}\n    want: {want}\n    got:  {got}")
    passed = sum(r.passed for r in results)
    answerable = [r for r in results if r.question.kind == "answer"]
    abstain = [r for r in results if r.question.kind == "abstain"]
    score = passed / len(results) if results else 0.0
    print(
        f"{passed}/{len(results)} right ({score:.1%}): "
        f"answers {sum(r.passed for r in answerable)}/{len(answerable)}, "
        f"declines {sum(r.passed for r in abstain)}/{len(abstain)}"
    )
    return 0 if score >= args.min else 1


def cmd_run(args: argparse.Namespace) -> int:
    """What `make run` does: build the index if missing, then Slack if configured, else the console."""
    from bot.engine.facts import facts_paths

    settings = Settings.from_env()
    facts, seeds = args.facts or settings.facts_dir, args.seeds or settings.seeds_dir
    if not facts_paths(facts):
        from bot.engine import build_index

        report = build_index(seeds, facts)
        print(f"built {report.facts} facts from {report.articles} articles into {facts}/")
    if settings.has_slack_tokens:
        from bot.slack.runner import serve

        return serve(settings, args.port)
    print("No Slack tokens in the environment or .env: starting the local console.", file=sys.stderr)
    print("(See README, 'Connect to Slack', to run FactBot in your workspace.)", file=sys.stderr)
    from bot.engine import Engine

    return run_console(Engine.load(facts, seeds), sys.stdin, sys.stdout)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.slack.runner import serve

    settings = Settings.from_env()
    return serve(settings, args.port, host=args.host, workers=args.workers)


def cmd_digest(args: argparse.Namespace) -> int:
    from bot.digest import cli as digest_cli

    settings = Settings.from_env()
    if args.digest_command == "preview":
        return digest_cli.preview(settings, args.channel)
    return digest_cli.send(settings, args.channel)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    settings = settings or Settings()
    settings_hint = "(default: %(default)s)"
    parser = argparse.ArgumentParser(prog="factbot", description="Grounded answers from a set of articles.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_dirs(p: argparse.ArgumentParser, default: bool = True) -> argparse.ArgumentParser:
        p.add_argument(
            "--facts",
            type=Path,
            default=settings.facts_dir if default else None,
            help=f"facts directory {settings_hint}",
        )
        p.add_argument(
            "--seeds",
            type=Path,
            default=settings.seeds_dir if default else None,
            help=f"articles directory {settings_hint}",
        )
        return p

    p = with_dirs(sub.add_parser("build", help="build facts/ from the articles in seeds/"))
    p.set_defaults(func=cmd_build)
    p = with_dirs(sub.add_parser("check", help="validate every facts file"))
    p.set_defaults(func=cmd_check)
    p = with_dirs(sub.add_parser("ask", help="answer one question ('-' reads one per line from stdin)"))
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("question", nargs="*", help="the question, or - for standard input")
    p.set_defaults(func=cmd_ask)
    p = with_dirs(sub.add_parser("chat", help="local console: answer questions read from standard input"))
    p.set_defaults(func=cmd_chat)
    p = with_dirs(sub.add_parser("eval", help="run a question file and report misses"))
    p.add_argument("file", type=Path)
    p.add_argument("--min", type=float, default=1.0, help="lowest passing share (default: 1.0)")
    p.set_defaults(func=cmd_eval)
    p = with_dirs(
        sub.add_parser("run", help="build if needed, then serve Slack (tokens set) or the console"),
        default=False,
    )
    p.add_argument("--port", type=int, default=3000)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    p.add_argument("--port", type=int, default=3000, help="HTTP port (default: 3000)")
    p.add_argument(
        "--host",
        default=settings.http_host,
        help="HTTP address to listen on (FACTBOT_HTTP_HOST; default: %(default)s)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=settings.http_workers,
        help="HTTP worker processes (FACTBOT_HTTP_WORKERS; default: %(default)s)",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("digest", help="preview or send the daily fact digest")
    digest = p.add_subparsers(dest="digest_command", required=True)
    d = digest.add_parser("preview", help="print the next digest without posting")
    d.add_argument("--channel", default=None)
    d = digest.add_parser("send", help="post a digest to CHANNEL now and record it")
    d.add_argument("channel")
    p.set_defaults(func=cmd_digest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings.from_env()
    except FactBotError as exc:
        print(f"factbot: {exc}", file=sys.stderr)
        return 2
    parser = build_parser(settings)
    args = parser.parse_args(argv)
    serving = args.command == "serve" or (args.command == "run" and settings.has_slack_tokens)
    level = settings.log_level if serving else "WARNING"
    logging.basicConfig(
        level=logging.INFO if args.verbose else level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except FactBotError as exc:
        print(f"factbot {args.command}: {exc}" if "\n" not in str(exc) else str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
