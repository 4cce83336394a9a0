"""Reading seed articles (bot.engine.articles): front matter, paragraphs, page furniture, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.articles import article_paths, load_article, load_articles
from bot.errors import ArticleError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = write(
        tmp_path / "harbour.md",
        "---\n"
        'title: "Harbours: A History"\n'
        "url: https://example.org/harbours\n"
        "published: 2024-05-01\n"
        "author: Ada Brink\n"
        "---\n"
        "First paragraph.\n"
        "\n"
        "Second paragraph.\n",
    )
    article = load_article(path)
    assert article.stem == "harbour"
    assert article.title == "Harbours: A History"
    assert article.url == "https://example.org/harbours"
    assert article.published == "2024-05-01"
    assert article.author == "Ada Brink"
    assert article.paragraphs == ("First paragraph.", "Second paragraph.")


def test_markdown_without_front_matter_takes_its_title_from_the_file_name(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "tidal_mills.md", "Mills ground grain.\n"))
    assert article.title == "Tidal mills"
    assert article.url is None and article.published is None and article.author is None


def test_text_title_comes_from_the_file_name(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "steam_engine-history.txt", "Watt improved it.\n"))
    assert article.stem == "steam_engine-history"
    assert article.title == "Steam engine history"
    assert article.paragraphs == ("Watt improved it.",)


def test_front_matter_in_a_text_file_is_text(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "notes.txt", "---\ntitle: Not a title\n---\nBody.\n"))
    assert article.title == "Notes"
    assert "Body." in article.paragraphs


def test_every_non_empty_line_is_a_paragraph_and_blank_lines_mean_nothing(tmp_path: Path) -> None:
    dense = load_article(write(tmp_path / "dense.txt", "One.\nTwo. Still two.\nThree.\n"))
    airy = load_article(write(tmp_path / "airy.txt", "\n\nOne.\n\n\n\nTwo. Still two.\n   \nThree.\n\n"))
    assert dense.paragraphs == airy.paragraphs == ("One.", "Two. Still two.", "Three.")


def test_paragraphs_are_stripped_but_otherwise_verbatim(tmp_path: Path) -> None:
    line = "China’s “Freedom Edges” cost $2.2 trillion — or so."
    article = load_article(write(tmp_path / "a.txt", f"   {line}\t\n"))
    assert article.paragraphs == (line,)


def test_utf8_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff---\ntitle: With BOM\n---\nText.\n".encode())
    article = load_article(path)
    assert article.title == "With BOM"
    assert article.paragraphs == ("Text.",)


FURNITURE = [
    "Leave a Reply",
    "Your email address will not be published. Required fields are marked *",
    "Share this:",
    "Like this:",
    "Related",
]


@pytest.mark.parametrize("furniture", FURNITURE)
def test_page_furniture_never_becomes_a_paragraph(tmp_path: Path, furniture: str) -> None:
    article = load_article(write(tmp_path / "a.txt", f"Real text.\n{furniture}\n"))
    assert article.paragraphs == ("Real text.",)


def test_share_bar_in_the_middle_does_not_end_the_article(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "a.txt", "Before.\nShare this:\nLike this:\nAfter.\n"))
    assert article.paragraphs == ("Before.", "After.")


def test_nothing_after_a_trailing_leave_a_reply_is_article_text(tmp_path: Path) -> None:
    article = load_article(
        write(
            tmp_path / "a.md",
            "---\ntitle: T\n---\n"
            "The article ends here.\n\n"
            "Leave a Reply\n\n"
            "Your email address will not be published. Required fields are marked *\n\n"
            "Great post, thanks!\n"
            "Name *\n",
        )
    )
    assert article.paragraphs == ("The article ends here.",)


def test_a_sentence_that_mentions_furniture_words_is_kept(tmp_path: Path) -> None:
    line = "Readers could leave a reply on the forum, and many shared this article."
    article = load_article(write(tmp_path / "a.txt", f"{line}\n"))
    assert article.paragraphs == (line,)


def test_malformed_front_matter_names_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.md", "---\ntitle: ok\n  url: badly indented\n---\nBody.\n")
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(error.value).startswith(f"{path}:3: ")


def test_unclosed_quote_in_front_matter_names_the_line_it_opens_on(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.md", '---\nurl: https://example.org\ntitle: "never closed\n---\nBody.\n')
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(error.value).startswith(f"{path}:3: ")


def test_front_matter_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "list.md", "---\n- just\n- a list\n---\nBody.\n")
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(error.value).startswith(f"{path}:2: ")


def test_unclosed_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "open.md", "---\ntitle: Never closed\n\nBody text.\n")
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(error.value).startswith(f"{path}:1: ")
    assert "never closed" in str(error.value)


@pytest.mark.parametrize(
    "text",
    ["", "\n\n   \n", "---\ntitle: Only a title\n---\n\n", "Leave a Reply\nShare this:\n"],
)
def test_article_without_text(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "empty.md", text)
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(path) in str(error.value) and "no text" in str(error.value)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\xe9 society.\n".encode("latin-1"))
    with pytest.raises(ArticleError) as error:
        load_article(path)
    assert str(path) in str(error.value) and "UTF-8" in str(error.value)


def test_article_paths_skip_readme_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "README.md", ".draft.md", "notes.docx", "c.yaml"]:
        write(tmp_path / name, "Text.\n")
    (tmp_path / "sub.md").mkdir()
    assert [p.name for p in article_paths(tmp_path)] == ["a.md", "b.txt"]


def test_missing_seeds_directory(tmp_path: Path) -> None:
    with pytest.raises(ArticleError) as error:
        load_articles(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(error.value)


def test_two_articles_with_the_same_stem_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "same.md", "One.\n")
    write(tmp_path / "same.txt", "Two.\n")
    with pytest.raises(ArticleError) as error:
        load_articles(tmp_path)
    assert "same.md" in str(error.value) and "same.txt" in str(error.value)


def test_committed_seeds_have_no_page_furniture(repo_root: Path) -> None:
    articles = load_articles(repo_root / "seeds")
    assert articles
    for article in articles:
        for paragraph in article.paragraphs:
            assert "Leave a Reply" not in paragraph
            assert "Your email address will not be published" not in paragraph
