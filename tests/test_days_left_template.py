import pytest
from django.template.loader import render_to_string
from django.utils import translation


@pytest.mark.parametrize(
    ("days", "english"),
    [
        (-1, "1 working day overdue"),
        (-19, "19 working days overdue"),
        (0, "0 working days left"),
        (1, "1 working day left"),
    ],
)
def test_days_left_renders_overdue_and_remaining_days(days, english):
    with translation.override("en"):
        assert english in render_to_string("_partials/days_left.html", {"days": days})
    with translation.override("zh-hans"):
        rendered = render_to_string("_partials/days_left.html", {"days": days})
    assert str(abs(days)) in rendered and "working" not in rendered
