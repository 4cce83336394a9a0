"""Derive ``bot/engine/data/wordnet_nouns.tsv.gz``: noun lemma -> WordNet lexicographer class.

The short-answer selector (``bot/engine/short_answer.py``) reads a question's head noun ("which *city*")
and a candidate's head word through this table. Source: WordNet 3.0 (Princeton University; the
WordNet 3.0 licence, copied to ``bot/engine/data/LICENSE-wordnet.txt``), as Debian's ``wordnet-base``
package installs it under ``/usr/share/wordnet``. Nothing of WordNet is needed at run time.

For each single-word noun lemma (lower case, letters and hyphens), the class of its most frequent
sense (WordNet lists senses by frequency), then the class of its second sense when that differs
and is among the classes the selector uses ("state": noun.location, then noun.state...). Classes
are written as their short names (``location``, ``person``...).

    apt-get install wordnet-base
    .venv/bin/python -m bench.wordnet_classes            # writes bot/engine/data/wordnet_nouns.tsv.gz
"""

from __future__ import annotations

import argparse
import gzip
import logging
import re
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bot" / "engine" / "data" / "wordnet_nouns.tsv.gz"
WORDNET = Path("/usr/share/wordnet")

# WordNet's lexicographer files, by number (lexnames(5WN)); only the noun ones occur here.
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time"
).split()
_LEMMA = re.compile(r"[a-z][a-z-]*[a-z]")


def synset_classes(data_noun: Path) -> dict[int, str]:
    """Synset offset -> lexicographer class (short name), from ``data.noun``."""
    classes: dict[int, str] = {}
    with data_noun.open(encoding="latin-1") as lines:
        for line in lines:
            if line.startswith("  "):  # the licence header
                continue
            offset, lexfile = line.split(" ", 2)[:2]
            classes[int(offset)] = LEXNAMES[int(lexfile)].split(".", 1)[1].lower()
    return classes


def lemma_classes(wordnet: Path) -> dict[str, tuple[str, ...]]:
    """Lemma -> the classes of its first (and second, when different) sense."""
    classes = synset_classes(wordnet / "data.noun")
    out: dict[str, tuple[str, ...]] = {}
    with (wordnet / "index.noun").open(encoding="latin-1") as lines:
        for line in lines:
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma = fields[0]
            if not _LEMMA.fullmatch(lemma):
                continue
            pointers = int(fields[3])
            offsets = [int(x) for x in fields[6 + pointers :]]
            senses = [classes[o] for o in offsets[:2]]
            out[lemma] = tuple(dict.fromkeys(senses))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet", type=Path, default=WORDNET, help="WordNet's dict folder")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not (args.wordnet / "index.noun").is_file():
        print(f"no WordNet at {args.wordnet} (apt-get install wordnet-base)", file=sys.stderr)
        return 2
    table = lemma_classes(args.wordnet)
    rows = [f"{lemma}\t{','.join(kinds)}\n" for lemma, kinds in sorted(table.items())]
    header = "# lemma -> WordNet 3.0 lexicographer class of its first (and second) noun sense\n"
    # mtime=0: the same input gives the same bytes.
    with args.out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out:
        out.write((header + "".join(rows)).encode("utf-8"))
    print(f"{len(rows):,} nouns -> {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
