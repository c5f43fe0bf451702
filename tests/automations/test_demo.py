"""The demo's automations are written against the demo's names, once."""

import pytest
from django.core.management import call_command

from automations import engine
from automations.models import Macro, Rule

pytestmark = pytest.mark.django_db


def test_the_demo_gets_its_rules_and_macro_once(capsys):
    call_command("seed_demo")
    call_command("seed_automations")
    call_command("seed_automations")
    assert Rule.objects.count() == 2
    assert Macro.objects.get().name == "Refund"
    assert all(not engine.problems(rule) for rule in engine.with_parts(Rule.objects.all()))
    assert "2 rules, 1 macros" in capsys.readouterr().out


def test_without_the_demo_it_says_what_is_missing(capsys):
    call_command("seed_automations")
    assert not Rule.objects.exists()
    assert "run seed_demo first" in capsys.readouterr().out
