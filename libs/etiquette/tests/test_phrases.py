"""The forbidden-phrase check over the shipped phrase book."""

from pathlib import Path

import pytest
import yaml

from brightline.etiquette import (
    ForbiddenPhraseError,
    PhraseBook,
    check,
    ensure_polite,
)
from brightline.platform.rulefile import RuleFileError


@pytest.fixture(scope="module")
def book() -> PhraseBook:
    return PhraseBook.load()


def test_shipped_book_is_versioned_and_every_entry_has_a_known_category(book):
    assert book.version
    assert len(book.entries) >= 20
    assert all(e.category in book.categories for e in book.entries)


def test_shipped_book_marks_where_each_phrase_comes_from(book):
    sources = {e.source.split(":")[0] for e in book.entries}
    assert sources <= {"seed", "trade"}
    assert "seed" in sources


def test_plain_match_reports_span_category_and_suggestion(book):
    text = "这个不归我们管。"
    [v] = book.check(text)
    assert v.phrase == "不归我们管"
    assert text[v.start : v.end] == "不归我们管"
    assert v.category == "shirking"
    assert v.suggestion and "转交" in v.suggestion


def test_whitespace_and_punctuation_between_characters_are_ignored(book):
    text = "我也不 知，道啊"
    [v] = book.check(text)
    assert v.phrase == "不知道"
    assert text[v.start : v.end] == "不 知，道"


def test_full_width_and_case_are_folded(book):
    text = "Ｉ　ＡＬＲＥＡＤＹ told you!"
    [v] = book.check(text)
    assert v.phrase == "I already told you"
    assert v.start == 0


def test_traditional_variant_matches(book):
    [v] = book.check("這不是我們的事")
    assert v.phrase == "这不是我们的事"


def test_exceptions_are_not_violations(book):
    assert book.check("对不起，电话杂音太大，听不清楚，请您换部电话再拨打。") == []
    assert book.check("不知道您方便什么时间接听回访电话？") == []
    # ...but the bare phrase elsewhere in the same text still is.
    assert [v.phrase for v in book.check("听不清楚。我不清楚。")] == ["不清楚"]


def test_several_phrases_are_reported_in_order(book):
    text = "急什么？刚才不是跟你说了吗，这不归我们管"
    assert [v.phrase for v in book.check(text)] == ["急什么", "刚才不是跟你说了吗", "不归我们管"]


def test_seed_standard_replies_are_polite(book):
    for text in (
        "您先别急，我们会尽力为您解决。",
        "很抱歉给您添麻烦了，请您把具体的情况描述一下，好吗？",
        "真是抱歉，根据现有的××规定，我们还无法提供您所期望的服务，请您谅解。",
        "您的故障不属于供电局维修范围，您可以联系有资质的维修队伍为您修理。",
        "非常感谢您的宝贵意见，我们会及时反映到相关部门。",
    ):
        assert book.check(text) == [], text


def test_every_suggestion_is_itself_polite(book):
    for entry in book.entries:
        if entry.suggestion:
            assert book.check(entry.suggestion) == [], entry.phrase


def test_ensure_polite_raises_naming_the_phrases(book):
    with pytest.raises(ForbiddenPhraseError) as err:
        book.ensure_polite("不知道，你去投诉吧")
    assert "不知道" in str(err.value) and "你去投诉吧" in str(err.value)
    assert [v.phrase for v in err.value.violations] == ["不知道", "你去投诉吧"]


def test_ensure_polite_returns_polite_text(book):
    assert book.ensure_polite("请您稍等，我帮您查询一下。") == "请您稍等，我帮您查询一下。"


def test_module_level_helpers_use_the_shipped_book():
    assert check("我不管") and check("我不管")[0].phrase == "我不管"
    with pytest.raises(ForbiddenPhraseError):
        ensure_polite("我不管")


def test_longer_phrase_swallows_a_listed_phrase_inside_it(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "version": 7,
                "phrases": [
                    {"phrase": "不知道", "category": "x"},
                    {"phrase": "我不知道", "category": "y", "suggestion": "我帮您查询"},
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    custom = PhraseBook.load(path)
    assert custom.version == 7
    [v] = custom.check("我不知道")
    assert (v.phrase, v.category, v.start, v.end) == ("我不知道", "y", 0, 4)


@pytest.mark.parametrize(
    "data",
    [
        {"phrases": []},
        {"version": 1, "phrases": [{"phrase": "x"}]},
        {"version": 1, "phrases": [{"phrase": "！！", "category": "x"}]},
        {"version": 1, "categories": {"a": "A"}, "phrases": [{"phrase": "x", "category": "b"}]},
    ],
)
def test_malformed_books_are_rejected(data, tmp_path: Path):
    path = tmp_path / "phrases.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleFileError, match=f"^{path}: line "):
        PhraseBook.load(path)


@pytest.mark.parametrize(
    "text",
    [
        "这个真没办法。",
        "你自己看着办吧。",
        "这事我管不了。",
        "你听不懂吗？",
        "你等着吧！",
        "那不可能。",
    ],
)
def test_common_forbidden_phrases_are_caught(book, text):
    """Issue 15 point 13: 服务忌语 the list used to miss."""
    assert book.check(text), text


def test_every_seed_citation_quotes_the_seed_and_contains_the_phrase(book):
    """A phrase cites a seed only with the seed's own sentence, and the phrase is in it."""
    cited = [e for e in book.entries if e.source.startswith("seed:")]
    assert cited
    for entry in cited:
        assert entry.quote, f"{entry.phrase}: seed citation without the seed's sentence"
        assert entry.phrase in entry.quote, f"{entry.phrase} is not in its quoted source"
    # The four entries that cited seed 004 without being in it now say where they come from.
    for phrase in ("我们不提供这个服务", "不归我们管", "这不是我们的事", "我就这态度"):
        [entry] = [e for e in book.entries if e.phrase == phrase]
        assert entry.source == "trade"
