"""Folding quoted history and signatures on the request page, without losing them."""

import pytest

from tickets.display import split_quoted


@pytest.mark.parametrize(
    "text, visible, folded",
    [
        (
            "It still smokes.\n\n> We are on it.\n> Alice",
            "It still smokes.",
            "> We are on it.\n> Alice",
        ),
        ("Thanks!\n-- \nDana\nACME", "Thanks!", "-- \nDana\nACME"),
        (
            "Fine now.\n\nOn Mon, 2 Mar 2026 at 10:00, Alice <a@x.test> wrote:\n> Try again",
            "Fine now.",
            "On Mon, 2 Mar 2026 at 10:00, Alice <a@x.test> wrote:\n> Try again",
        ),
        (
            "See below.\n-----Original Message-----\nFrom: x",
            "See below.",
            "-----Original Message-----\nFrom: x",
        ),
        ("> only a quote", "> only a quote", ""),
        (
            "No quotes at all.\n> but this is inline\nand more text",
            "No quotes at all.\n> but this is inline\nand more text",
            "",
        ),
        ("", "", ""),
    ],
)
def test_quoted_history_and_signatures_are_folded_but_kept(text, visible, folded):
    assert split_quoted(text) == (visible, folded)
