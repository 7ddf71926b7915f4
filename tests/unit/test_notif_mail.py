"""Alert e-mails: the recipient's language, the match's facts and reasons, an unsubscribe link."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

from notifications.alerts import alerts_for_match
from notifications.mail import Letter, MailComposer
from shared.contracts import MatchFound
from shared.events import typed_data

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def match(
    match_id: str = "m-1", title: str = "40 palettes Europe", relation: str = "same"
) -> MatchFound:
    def side(listing_id: str, org: str, name: str, place: str) -> dict[str, object]:
        return {
            "listing_id": listing_id,
            "organisation_id": org,
            "title": name,
            "category": "ewc-150103",
            "quantity": 40.0,
            "unit": "pallets",
            "location": {"lat": 49.1, "lon": 6.1, "place": place},
            "available_until": datetime(2026, 12, 24, 18, 0, tzinfo=UTC),
            "version": 1,
        }

    found = typed_data(
        "boucle.match.found",
        {
            "match_id": match_id,
            "offer": side("offer-1", "farm", title, "Metz"),
            "need": side("need-1", "canteen", "Palettes pour l'atelier", "Luxembourg"),
            "score": 0.8,
            "reasons": {
                "distance_km": 55.24,
                "category_relation": relation,
                "quantity_fit": "partial",
                "days_left": 3,
                "cross_border": True,
                "countries": ["FR", "LU"],
            },
        },
    )
    assert isinstance(found, MatchFound)
    return found


def compose(language: str, alerts: list, digest: bool = False) -> EmailMessage:  # type: ignore[type-arg]
    composer = MailComposer("https://boucle.example", "Boucle <alerts@boucle.example>")
    letter = Letter("d-1", "hello@cantine.lu", language, alerts, "https://u.example/t", digest)
    return composer.compose(letter, NOW)


def text_of(message: EmailMessage) -> str:
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return str(message.get_body(("html",)).get_content())  # type: ignore[union-attr]


def test_the_buyer_learns_what_how_much_how_far_until_when_and_why_in_french() -> None:
    buyer, _seller = alerts_for_match(match())
    message = compose("fr", [buyer])
    text = text_of(message)
    assert message["Subject"] == "Nouvelle offre pour votre besoin : 40 palettes Europe"
    assert (
        "Une offre près de chez vous correspond à votre besoin « Palettes pour l'atelier »" in text
    )
    assert "40 palettes" in text
    assert "55,2 km" in text
    assert "24 décembre 2026" in text
    assert "L\u2019offre couvre une partie de votre besoin" in text
    assert "3 jours restants" in text
    assert "FR → LU" in text
    assert "https://boucle.example/listings/offer-1" in text
    assert "https://u.example/t" in text


def test_the_seller_hears_in_german_who_needs_what_it_offers() -> None:
    _buyer, seller = alerts_for_match(match())
    message = compose("de", [seller])
    text = text_of(message)
    assert message["Subject"].startswith("In Ihrer Nähe wird gebraucht, was Sie anbieten")
    assert "Palettes pour l'atelier (Luxembourg)" in text
    assert "Paletten" in text
    assert "https://boucle.example/listings/need-1" in text


def test_the_offering_side_reads_in_german_of_the_other_organisations_need_not_its_own() -> None:
    # "Ihr Bedarf" reads as "your need": the farm that offers has no need in this match.
    _buyer, seller = alerts_for_match(match(relation="parent"))
    text = text_of(compose("de", [seller]))
    assert "Der Bedarf der anderen Organisation umfasst die Kategorie Ihres Angebots" in text
    assert "Ihr Angebot deckt einen Teil des Bedarfs der anderen Organisation" in text
    assert "Ihr Bedarf" not in text and "Ihren Bedarf" not in text
    buyer, _seller = alerts_for_match(match(relation="parent"))
    text = text_of(compose("de", [buyer]))
    assert "Das Angebot gehört zur gesuchten Kategorie" in text
    assert "Das Angebot deckt einen Teil Ihres Bedarfs" in text


def test_a_luxembourgish_organisation_reads_its_alerts_in_luxembourgish() -> None:
    buyer, _seller = alerts_for_match(match())
    message = compose("lb", [buyer])
    text = text_of(message)
    assert message["Subject"] == "Nei Offer fir Äre Bedarf: 40 palettes Europe"
    assert "D'Offer deckt en Deel vun Ärem Bedarf" in text
    assert "Distanz: 55,2 km" in text and "nach 3 Deeg" in text
    assert "Dës E-Mailen ofbestellen" in text


def test_every_email_has_html_and_text_and_a_one_click_unsubscribe_header() -> None:
    buyer, _ = alerts_for_match(match())
    message = compose("en", [buyer])
    assert message["List-Unsubscribe"] == "<https://u.example/t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == "<d-1@boucle.example>", "in the sender's domain"
    html = html_of(message)
    assert '<a href="https://u.example/t">Stop these e-mails</a>' in html
    assert "Same category" in html


def test_titles_are_escaped_in_html() -> None:
    buyer, _ = alerts_for_match(match(title="<script>alert(1)</script>"))
    html = html_of(compose("en", [buyer]))
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_a_digest_lists_the_days_alerts_in_one_email() -> None:
    alerts = [alerts_for_match(match(f"m-{n}", f"Offer {n}"))[0] for n in range(3)]
    message = compose("en", alerts, digest=True)
    assert message["Subject"] == "Boucle: 3 new matches today"
    text = text_of(message)
    assert all(f"Offer {n}" in text for n in range(3))


def test_a_long_unsubscribe_link_reaches_mail_clients_as_a_plain_url() -> None:
    buyer, _ = alerts_for_match(match())
    long_link = "https://u.example/unsubscribe/" + "t" * 150
    composer = MailComposer("https://boucle.example", "Boucle <alerts@boucle.example>")
    letter = Letter("d-2", "canteen@example.org", "en", [buyer], long_link)
    raw = composer.compose(letter, NOW).as_bytes().decode()
    assert f"List-Unsubscribe: <{long_link}>" in raw.splitlines(), "not RFC 2047-encoded"


def test_message_ids_are_in_the_senders_domain_not_the_web_hosts() -> None:
    buyer, _ = alerts_for_match(match())
    composer = MailComposer("https://www.boucle.example", "Boucle <alerts@Mail.Boucle.LU>")
    letter = Letter("d-3", "canteen@example.org", "en", [buyer], "https://u.example/t")
    assert composer.compose(letter, NOW)["Message-ID"] == "<d-3@mail.boucle.lu>"
    bare = MailComposer("https://www.boucle.example", "alerts")
    assert bare.compose(letter, NOW)["Message-ID"] == "<d-3@www.boucle.example>", "fallback"
