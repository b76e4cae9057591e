"""A small marketplace for the service tests: who is who, their offers and orders."""

from __future__ import annotations

from message_center.domain.models import Language, Marketplace, Offer, Order, User

from tests.unit.fakes import FakeWorld

ANNA = User(
    id="user-anna",
    login="anna_kowalska",
    email="anna.kowalska@example.com",
    preferred_language=Language.PL,
    business_account=False,
    marketplace=Marketplace.PL,
    mail_alias="annaaaaaaa",
)
SHOP = User(
    id="user-shop",
    login="rowery-kraków",
    email="sklep@rowery.example.com",
    preferred_language=Language.PL,
    business_account=True,
    marketplace=Marketplace.PL,
    mail_alias="shopshop22",
)
JAN = User(  # sells privately: no business account
    id="user-jan",
    login="jan_prywatny",
    email="jan@example.org",
    preferred_language=Language.PL,
    business_account=False,
    marketplace=Marketplace.PL,
    mail_alias="janjanjan2",
)
PETRA = User(
    id="user-petra",
    login="petra_svobodova",
    email="petra@example.net",
    preferred_language=Language.EN,
    business_account=False,
    marketplace=Marketplace.CZ,
)

BIKE = Offer(id="pl-offer-1001", seller_id=SHOP.id, marketplace=Marketplace.PL, title='Rower miejski 28"')
HELMET = Offer(id="pl-offer-1002", seller_id=SHOP.id, marketplace=Marketplace.PL, title="Kask rowerowy")
CAMERA = Offer(id="pl-offer-2001", seller_id=JAN.id, marketplace=Marketplace.PL, title="Używany aparat")
ANNA_BIKE_ORDER = Order(
    id="order-anna-1", buyer_id=ANNA.id, seller_id=SHOP.id, marketplace=Marketplace.PL, offer_ids=(BIKE.id,)
)
PETRA_BIKE_ORDER = Order(
    id="order-petra-1", buyer_id=PETRA.id, seller_id=SHOP.id, marketplace=Marketplace.CZ, offer_ids=(BIKE.id,)
)
ANNA_CAMERA_ORDER = Order(
    id="order-anna-jan", buyer_id=ANNA.id, seller_id=JAN.id, marketplace=Marketplace.PL, offer_ids=(CAMERA.id,)
)


def populated_world() -> FakeWorld:
    """Fakes holding the marketplace above, with services wired on them."""
    world = FakeWorld()
    for user in (ANNA, SHOP, JAN, PETRA):
        world.directory.add_user(user)
    for offer in (BIKE, HELMET, CAMERA):
        world.directory.add_offer(offer)
    for order in (ANNA_BIKE_ORDER, PETRA_BIKE_ORDER, ANNA_CAMERA_ORDER):
        world.directory.add_order(order)
    return world
