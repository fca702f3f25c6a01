"""Which organisation gets a complaint (rules/routing.py)."""

from __future__ import annotations

from rules.routing import Route, Routing, route

SOCIAL = Route(name="sociaal-domein", organisation="dienst-sociaal", topics=("wmo", "jeugdwet", "bijzondere bijstand"))


def test_without_a_matching_route_the_mailbox_organisation_gets_the_complaint() -> None:
    assert route("utrecht", "Het gras in het park wordt niet gemaaid.", [SOCIAL]) == Routing("utrecht", None, None)


def test_without_routes_the_mailbox_organisation_gets_the_complaint() -> None:
    assert route("utrecht", "Klacht over de Wmo", []) == Routing("utrecht", None)


def test_a_topic_word_in_the_text_sends_the_complaint_to_the_route_organisation() -> None:
    result = route("utrecht", "Ik ben niet tevreden over de Wmo-consulent.\nMijn aanvraag ligt al maanden stil.", [SOCIAL])
    assert result == Routing("dienst-sociaal", "sociaal-domein", "wmo")


def test_topic_words_are_matched_regardless_of_case() -> None:
    assert route("utrecht", "klacht over de WMO", [SOCIAL]).route == "sociaal-domein"
    upper = Route(name="jeugd", organisation="jeugdregio", topics=("Jeugdwet",))
    assert route("utrecht", "volgens de jeugdwet moet dit anders", [upper]).organisation == "jeugdregio"


def test_a_topic_at_the_start_of_a_longer_word_does_not_match() -> None:
    text = "Het wmoloket was dicht en de jeugdwetgeving snap ik niet."
    assert route("utrecht", text, [SOCIAL]).route is None


def test_a_topic_at_the_end_of_a_longer_word_does_not_match() -> None:
    """Rechtsbijstand (legal aid) is not bijstand (social assistance)."""
    assistance = Route(name="bijstand", organisation="sociale-dienst", topics=("bijstand",))
    assert route("utrecht", "Mijn rechtsbijstandverzekeraar helpt mij.", [assistance]).route is None
    assert route("utrecht", "Ik vraag rechtsbijstand aan.", [assistance]).route is None
    assert route("utrecht", "Ik vraag bijstand aan.", [assistance]).route == "bijstand"


def test_a_topic_of_several_words_matches_as_a_phrase() -> None:
    assert route("utrecht", "Mijn aanvraag voor bijzondere bijstand is kwijt.", [SOCIAL]).matched == "bijzondere bijstand"
    assert route("utrecht", "Een bijzondere vraag over bijstand.", [SOCIAL]).route is None


def test_a_topic_at_the_start_or_end_of_the_text_matches() -> None:
    assert route("utrecht", "Wmo", [SOCIAL]).route == "sociaal-domein"
    assert route("utrecht", "(jeugdwet)", [SOCIAL]).matched == "jeugdwet"


def test_a_topic_with_regex_characters_is_matched_literally() -> None:
    odd = Route(name="p-wet", organisation="werkbedrijf", topics=("p.wet",))
    assert route("utrecht", "klacht over de pawet", [odd]).route is None
    assert route("utrecht", "klacht over de p.wet", [odd]).route == "p-wet"


def test_a_route_limited_to_other_organisations_is_skipped() -> None:
    limited = Route(name="regio", organisation="dienst-sociaal", topics=("wmo",), from_organisations=("zeist", "bunnik"))
    assert route("utrecht", "klacht over de wmo", [limited]) == Routing("utrecht", None)


def test_a_route_limited_to_the_mailbox_organisation_applies() -> None:
    limited = Route(name="regio", organisation="dienst-sociaal", topics=("wmo",), from_organisations=("zeist", "bunnik"))
    assert route("bunnik", "klacht over de wmo", [limited]) == Routing("dienst-sociaal", "regio", "wmo")


def test_the_first_matching_route_wins() -> None:
    first = Route(name="eerste", organisation="org-a", topics=("jeugdwet",))
    second = Route(name="tweede", organisation="org-b", topics=("wmo",))
    text = "Over de wmo en ook over de jeugdwet."
    assert route("utrecht", text, [first, second]).route == "eerste"
    assert route("utrecht", text, [second, first]).route == "tweede"


def test_a_skipped_route_lets_a_later_route_win() -> None:
    limited = Route(name="regio", organisation="org-a", topics=("wmo",), from_organisations=("zeist",))
    open_route = Route(name="iedereen", organisation="org-b", topics=("wmo",))
    assert route("utrecht", "wmo", [limited, open_route]).organisation == "org-b"
