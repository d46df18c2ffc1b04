"""Rules over HTTP: hidden items are required only when visible and their answers are dropped,
skip_to hides pages, staff-only answers from citizens are ignored, hidden rows' children and
hidden groups lose their values."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.functional.support import (
    VALID_PAGES,
    assert_accessible,
    draft_answers,
    fill_showcase,
    page_of,
    parse,
    summary_links,
    translate,
)


def test_answer_to_a_hidden_question_is_dropped(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(1, {"smoking": "never", "cigarettes": "20", "quit_year": "1999"})
    assert response.status_code == 302, "a hidden question is never required nor checked"
    answers = draft_answers(app, form)
    assert answers["smoking"] == "never"
    assert "cigarettes" not in answers
    assert "quit_year" not in answers
    # Turning the question on later shows it empty: the dropped answer does not come back.
    html = form.post(1, {"smoking": "daily"}).get_data(as_text=True)
    dom = parse(html)
    assert dom.find(id="f-cigarettes").attrs["value"] == ""  # type: ignore[union-attr]


def test_hidden_question_is_required_only_when_visible(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    assert form.post(1, {"smoking": "former"}).status_code == 200  # quit_year appeared
    response = form.post(1, {"smoking": "former"})
    assert response.status_code == 302, "quit_year is optional even when visible"
    form.post(1, {"smoking": "sometimes"})
    response = form.post(1, {"smoking": "sometimes"})
    assert summary_links(parse(response.get_data(as_text=True))) == [
        ("#f-cigarettes", translate(app, "Answer this question."))]
    response = form.post(1, {"smoking": "never"})
    assert response.status_code == 302


def test_invalid_answer_to_a_hidden_question_blocks_nothing(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(1, {"smoking": "never", "cigarettes": "100000"})
    assert response.status_code == 302
    assert "cigarettes" not in draft_answers(app, form)


def test_skip_to_hides_the_pages_in_between(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(0, {"name": "Ung Person", "birth_date": "2012-01-01"})
    assert response.status_code == 302
    assert page_of(response) == "3"
    for skipped in (1, 2):
        response = form.get(skipped)
        assert response.status_code == 302
        assert page_of(response) == "3"
    html = form.get(3).get_data(as_text=True)
    assert translate(app, "Page %(n)s of %(total)s", n=2, total=3) in html
    back = form.post(3, {"has_medication": "false"}, action="back")
    assert page_of(back) == "0"
    form.post(3, {"has_medication": "false"})
    form.post(4, {"consent": "true"})
    review = parse(form.review().get_data(as_text=True))
    headings = [h.text() for h in review.find_all("h2")]
    assert "Levnadsvanor" not in headings
    assert "Hälsa" not in headings
    assert review.find(id="error-summary") is None, "answers of skipped pages are not required"


def test_skipped_page_answers_are_dropped(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    fill_showcase(form)
    assert draft_answers(app, form)["smoking"] == "never"
    form.post(0, {"name": "Ung Person", "birth_date": "2012-01-01"})
    answers = draft_answers(app, form)
    for dropped in ("smoking", "weight", "height", "bmi", "wellbeing", "symptoms", "stress_1"):
        assert dropped not in answers, dropped
    assert answers["consent"] is True


def test_staff_only_answers_posted_by_a_citizen_are_ignored(driver: Any, app: Flask) -> None:
    citizen = driver("showcase")
    response = citizen.post(4, {"consent": "true", "staff_note": "Skrivet av medborgaren"})
    assert response.status_code == 302
    assert "staff_note" not in draft_answers(app, citizen)

    staff = driver("showcase", audience="staff")
    response = staff.post(4, {"consent": "true", "staff_note": "Ringt upp."})
    assert response.status_code == 302
    assert draft_answers(app, staff)["staff_note"] == "Ringt upp."


def test_values_of_hidden_row_children_are_dropped(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    data = {"has_medication": "true",
            "medications-0-drug": "Alvedon", "medications-0-as_needed": "false",
            "medications-0-as_needed_reason": "dold",
            "medications-1-drug": "Ipren", "medications-1-as_needed": "true",
            "medications-1-as_needed_reason": "Vid värk"}
    assert form.post(3, data).status_code == 200  # the group appeared: shown first
    response = form.post(3, data)
    assert response.status_code == 302
    assert draft_answers(app, form)["medications"] == [
        {"drug": "Alvedon", "as_needed": False},
        {"drug": "Ipren", "as_needed": True, "as_needed_reason": "Vid värk"},
    ]


def test_rows_of_a_hidden_group_are_dropped(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(3, {"has_medication": "false", "medications-0-drug": "Alvedon"})
    assert response.status_code == 302
    answers = draft_answers(app, form)
    assert answers["has_medication"] is False
    assert "medications" not in answers


def test_answers_in_a_hidden_section_are_dropped(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(2, {"symptoms": ["none"], "wellbeing": "6", "stress_1": "5",
                             "stress_2": "4", "stress_3": "3"})
    assert response.status_code == 302
    answers = draft_answers(app, form)
    assert answers["symptoms"] == ["none"]
    assert not {"stress_1", "stress_2", "stress_3"} & set(answers)
    html = form.get(2).get_data(as_text=True)
    section = parse(html).find("section", data_element="stress-section")
    assert section is not None
    assert "hidden" in section.attrs


def test_removing_a_row_keeps_the_others(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    data = {"has_medication": "true", "medications-0-drug": "Alvedon",
            "medications-1-drug": "Ipren", "medications-2-drug": "Panodil"}
    form.post(3, data, action="save")
    response = form.post(3, data, action="remove:medications:1")
    assert response.status_code == 200
    assert [row["drug"] for row in draft_answers(app, form)["medications"]] == [
        "Alvedon", "Panodil"]
    dom = assert_accessible(response.get_data(as_text=True))
    assert dom.find(id="f-medications-1-drug").attrs["value"] == "Panodil"  # type: ignore[union-attr]
    assert dom.find(id="f-medications-2-drug") is None


def test_rows_cannot_grow_past_max_items(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    data = {"has_medication": "true",
            **{f"medications-{i}-drug": f"Läkemedel {i}" for i in range(5)}}
    form.post(3, data, action="save")
    response = form.post(3, data, action="add:medications")
    assert response.status_code == 200
    assert len(draft_answers(app, form)["medications"]) == 5
    dom = parse(response.get_data(as_text=True))
    assert "add:medications" not in {b.attrs.get("value") for b in dom.find_all("button")}
    # Rows past maxItems in a post are not taken either.
    form.post(3, {**data, "medications-5-drug": "Ett för mycket"}, action="save")
    assert len(draft_answers(app, form)["medications"]) == 5


def test_follow_up_inside_a_group_row_is_shown_before_complaining(driver: Any,
                                                                  app: Flask) -> None:
    form = driver("showcase")
    form.post(3, {"has_medication": "true", "medications-0-drug": "Alvedon"}, action="save")
    response = form.post(3, {"has_medication": "true", "medications-0-drug": "Alvedon",
                             "medications-0-as_needed": "true"})
    assert response.status_code == 200
    assert summary_links(parse(response.get_data(as_text=True))) == []
    assert translate(app, "Your answers led to more questions on this page.") in (
        response.get_data(as_text=True))


def test_staff_sees_and_fills_the_staff_section(driver: Any, app: Flask) -> None:
    staff = driver("showcase", audience="staff")
    fill_showcase(staff, {4: {**VALID_PAGES[4], "staff_note": "Ringt upp."}})
    review = parse(staff.review().get_data(as_text=True))
    labels = [dt.text() for dt in review.find_all("dt")]
    assert "Anteckning från personal" in labels
