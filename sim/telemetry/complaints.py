"""Customer complaints: support tickets from shoppers who gave up, and customer service escalating.

A detection channel of its own: each simulated shopper who gives up after errors stands for
``represents`` real ones, and each of those files a ticket with ``probability`` after a
reporting ``lag``. Ticket text comes from templates chosen by the funnel step and the error
class (what the customer saw, never the database error), varied by channel and customer.
When ``escalation.tickets`` tickets are filed within ``escalation.within``, customer service
escalates to engineering (``complaints.escalated`` on the world's timeline).
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import simpy

from sim.engine.common.shoppers import people
from sim.engine.common.streams import sampler

if TYPE_CHECKING:
    from sim.engine.common.shoppers import Persona, Session
    from sim.model.world import World
    from sim.scenario.schema import Complaints as ComplaintsSpec

KEEP = 2000  # tickets kept in the journal (the first ones); all are counted
NAME_POOL = 128  # faker-made customers for the complainants beyond a session's own persona
SAMPLE = 10  # ticket ids named in an escalation
# Complaints from one simulated shopper filed one by one, at most: beyond it (a shopper who
# stands for a million), the rest are counted in the total but not drafted, timed and filed.
FILED_PER_SHOPPER = 50
CHANNELS = (("email", 0.4), ("chat", 0.3), ("phone", 0.2), ("social", 0.1))

# -- what the customer was doing, and what they saw ---------------------------------------

_TOPIC_WORDS = (
    ("login", ("login", "log-in", "signin", "sign-in", "sign_in", "auth", "account")),
    ("payment", ("pay", "billing", "card")),
    ("checkout", ("checkout", "order", "purchase")),
    ("cart", ("cart", "basket", "bag")),
    ("search", ("search", "find")),
)
_DOWN = frozenset(
    {
        "QueueFull",
        "NoHealthyUpstream",
        "ShardUnavailable",
        "ConnectionRefused",
        "CircuitOpen",
    }
)
_WHERE = {
    "login": "login page",
    "payment": "payment page",
    "checkout": "checkout",
    "cart": "cart",
    "search": "search",
    "browse": "home page",
}
_DEVICE = {"mobile": "on my phone", "desktop": "on my laptop", "tablet": "on my iPad"}
_SYMBOL = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# (topic, kind) → (subjects, first-person text); kind is "error", "slow" or "down".
# A missing (topic, kind) falls back to ("*", kind).
_TEMPLATES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("login", "error"): (
        (
            "Can't log in",
            "Login not working",
            "Unable to sign in to my account",
            "Password not accepted?",
        ),
        (
            "I can't log in. I type my password and it just says something went wrong.",
            "Your login page keeps giving me an error and I already reset my password.",
            "I've been trying to sign in to my account for ages and it won't let me.",
            "Login is broken for me {device}. My password is definitely right.",
        ),
    ),
    ("payment", "error"): (
        (
            "Card charged but order not placed",
            "Payment keeps failing",
            "Money taken, no order confirmation",
            "Charged {amount} but no order?",
        ),
        (
            "My card was charged {amount} but I never got an order confirmation.",
            "Payment failed three times and now I see pending charges on my card.",
            "I paid {amount}, the page showed an error and there is no order in my account.",
            "The payment step keeps failing. Is my card blocked or is it you?",
        ),
    ),
    ("checkout", "error"): (
        ("Can't place my order", "Checkout error", "Order won't go through"),
        (
            "I can't place my order, checkout fails every time.",
            "Checkout gives an error when I click Place order. I tried {device} too.",
            "I tried to order {amount} worth of things and the checkout just errors out.",
        ),
    ),
    ("cart", "error"): (
        ("Can't add to cart", "Cart not working", "My cart is broken"),
        (
            "I can't add anything to my cart, it shows an error.",
            "My cart won't load, it was full an hour ago.",
        ),
    ),
    ("search", "error"): (
        ("Search not working", "Search gives an error"),
        (
            "Search isn't working, every search gives me an error page.",
            "I can't find anything, search is broken {device}.",
        ),
    ),
    ("*", "error"): (
        ("Site down?", "Error page on your website", "Something went wrong?"),
        (
            "Your site shows an error page, is something wrong?",
            "I can't open any products, it just says 'Something went wrong'.",
        ),
    ),
    ("payment", "slow"): (
        ("Stuck on payment - was I charged?", "Payment page keeps spinning"),
        (
            "The payment page kept spinning and then timed out. Was I charged {amount}?",
            "I pressed Pay and it has been loading forever {device}.",
        ),
    ),
    ("*", "slow"): (
        ("Site is so slow", "Page keeps spinning", "Website timing out"),
        (
            "The {where} has been loading forever {device}.",
            "Everything is so slow, the {where} just keeps spinning.",
            "I waited minutes on the {where} and then it timed out.",
        ),
    ),
    ("*", "down"): (
        ("Site down?", "Is the website down?", "503 error", "Can't reach your site"),
        (
            "The website isn't loading at all. Is it down?",
            "I get '503 Service Unavailable' on the {where}.",
            "Is your site down? The {where} won't open {device}.",
        ),
    ),
}
_EXTRAS = (
    "This was around {clock}.",
    "I tried again a few times, same thing.",
    "Please help, I need this today.",
    "Is there an outage?",
)
_GREETINGS = ("Hi,", "Hello,", "Hi there,", "Dear customer service,")
_SIGNOFFS = ("Thanks, {first}", "Regards, {first}", "{name}", "Thank you. {first}")


def topic_of(*words: str) -> str:
    """The area a customer complains about, from a funnel step's name, endpoint and path."""
    text = " ".join(words).lower()
    for topic, keys in _TOPIC_WORDS:
        if any(k in text for k in keys):
            return topic
    return "browse"


def kind_of(error_class: str | None, message: str | None) -> str:
    """What the customer saw: ``slow`` (timeouts), ``down`` (refused, overloaded) or ``error``."""
    cls = error_class or ""
    msg = (message or "").lower()
    if "timeout" in cls.lower() or "timed out" in msg:
        return "slow"
    if cls in _DOWN or "unavailable" in cls.lower() or msg.startswith("503"):
        return "down"
    return "error"


class Complaints:
    """Files support tickets for shoppers who gave up, and escalates bursts to engineering."""

    def __init__(
        self,
        env: simpy.Environment,
        world: World,
        spec: ComplaintsSpec,
        rng: random.Random,
        represents: int,
        currency: str = "USD",
    ) -> None:
        self.env = env
        self.world = world
        self.spec = spec
        self.represents = represents
        self.currency = currency
        # Independent sub-streams, so that changing a template never moves a ticket in time.
        self._draw = random.Random(rng.getrandbits(64))  # how many complain, and when
        self._text = random.Random(rng.getrandbits(64))  # templates, channels, ids
        pick = random.Random(rng.getrandbits(64))
        self._customers = [(p.name, p.email) for p in pick.sample(people(), NAME_POOL)]
        self._lag = sampler(spec.lag, self._draw)
        self._next_id = 100000 + self._text.randrange(800000)
        self._clock = world.scenario.clock_start
        self._topics: dict[str, str] = {}
        for fs in world.scenario.traffic.funnel:
            ep = world.scenario.endpoints.get(fs.endpoint)
            topic = topic_of(fs.step, fs.endpoint, ep.path if ep else "")
            self._topics[fs.step] = "checkout" if topic == "browse" and fs.checkout else topic
        self._tickets: list[dict[str, Any]] = []
        self.total = 0
        self.pending = 0
        self._window: deque[tuple[float, str, str]] = deque()  # (t, id, topic) of recent tickets
        self._armed = True
        self._escalated_at = -math.inf
        self._escalations: list[dict[str, Any]] = []

    # -- shoppers → tickets ------------------------------------------------------------
    def gave_up(
        self,
        now: float,
        session: Session,
        persona: Persona,
        step: str,
        error_class: str | None,
        message: str | None,
    ) -> None:
        """A simulated shopper gave up: some of the real shoppers it stands for complain."""
        n = binomial(self._draw, self.represents, self.spec.probability)
        if n > FILED_PER_SHOPPER:
            self.total += n - FILED_PER_SHOPPER
            n = FILED_PER_SHOPPER
        for k in range(n):
            lag = self._lag()
            draft = self._draft(now, lag, session, persona, k, step, error_class, message)
            self.pending += 1
            self.env.timeout(lag, draft).callbacks.append(self._file)

    def _draft(
        self,
        now: float,
        lag: float,
        session: Session,
        persona: Persona,
        k: int,
        step: str,
        error_class: str | None,
        message: str | None,
    ) -> dict[str, Any]:
        rng = self._text
        name, email = (persona.name, persona.email) if k == 0 else rng.choice(self._customers)
        topic = self._topics.get(step) or topic_of(step)
        kind = kind_of(error_class, message)
        subjects, texts = _TEMPLATES.get((topic, kind)) or _TEMPLATES[("*", kind)]
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        symbol = _SYMBOL.get(self.currency)
        amount = (
            f"{symbol}{session.value:,.2f}" if symbol else f"{session.value:,.2f} {self.currency}"
        )
        fill = {
            "amount": amount,
            "device": _DEVICE.get(session.device, f"on my {session.device}"),
            "where": _WHERE[topic],
            "clock": (self._clock + timedelta(seconds=now)).strftime("%H:%M"),
            "first": _first_name(name),
            "name": name,
        }
        subject = rng.choice(subjects).format(**fill)
        text = rng.choice(texts).format(**fill)
        if rng.random() < 0.5:
            text += " " + rng.choice(_EXTRAS).format(**fill)
        return {
            "failed_at": now,
            "lag": lag,
            "session": session.id,
            "customer": name,
            "email": email,
            "region": session.region,
            "device": session.device,
            "channel": channel,
            "step": step,
            "topic": topic,
            "error_class": error_class,
            "priority": "high" if topic == "payment" else "normal",
            "subject": subject,
            "body": _body(rng, channel, text, subject, fill),
        }

    def _file(self, event: simpy.Event) -> None:
        draft = cast("dict[str, Any]", event.value)
        now = self.env.now
        ticket_id = f"CS-{self._next_id}"
        self._next_id += 1 + self._text.randrange(3)  # other customers' tickets in between
        ticket = {"id": ticket_id, "t": now, **draft}
        self.pending -= 1
        self.total += 1
        if len(self._tickets) < KEEP:
            self._tickets.append(ticket)
        self.world.emit(
            now,
            "ticket",
            id=ticket_id,
            subject=ticket["subject"],
            step=ticket["step"],
            channel=ticket["channel"],
        )
        self._watch(now, ticket_id, ticket["topic"])

    # -- customer service → engineering ------------------------------------------------
    def _watch(self, now: float, ticket_id: str, topic: str) -> None:
        """Count tickets in the last ``within``; escalate at ``tickets``; re-arm after a quiet window."""
        rule = self.spec.escalation
        window = self._window
        while window and window[0][0] < now - rule.within:
            window.popleft()
        # Re-arm after a full window, all after the escalation, with fewer than `tickets`: the
        # count only falls between tickets, so its low point was just before now.
        if (
            not self._armed
            and now > self._escalated_at + rule.within
            and sum(1 for t, _, _ in window if t < now) < rule.tickets
        ):
            self._armed = True
        window.append((now, ticket_id, topic))
        if self._armed and len(window) >= rule.tickets:
            self._armed = False
            self._escalated_at = now
            sample = [i for _, i, _ in window][:SAMPLE]
            topics = dict(Counter(tp for _, _, tp in window).most_common())
            self._escalations.append(
                {
                    "t": now,
                    "tickets": len(window),
                    "window": rule.within,
                    "sample": sample,
                    "topics": topics,
                }
            )
            self.world.emit(
                now,
                "complaints.escalated",
                tickets=len(window),
                window=rule.within,
                sample=sample,
                topics=topics,
            )

    # -- results -------------------------------------------------------------------------
    @property
    def tickets(self) -> list[dict[str, Any]]:
        """The tickets filed so far (at most the first ``KEEP``)."""
        return list(self._tickets)

    @property
    def escalations(self) -> list[dict[str, Any]]:
        """Every escalation to engineering, in time order."""
        return list(self._escalations)

    def to_journal(self) -> dict[str, Any]:
        """The journal's ``complaints`` section: kept tickets, totals, escalations."""
        return {
            "tickets": [_rounded(t) for t in self._tickets],
            "total": self.total,
            "pending": self.pending,
            "escalations": [_rounded(e) for e in self._escalations],
        }


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw by geometric skips: about ``n·p + 1`` calls to ``rng``."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    log_q = math.log1p(-p)
    k, trial = 0, 0
    while True:
        trial += int(math.log(1.0 - rng.random()) / log_q) + 1  # trials up to the next success
        if trial > n:
            return k
        k += 1


def _first_name(name: str) -> str:
    words = [w for w in name.split() if not w.endswith(".")]
    return words[0] if words else name


def _body(rng: random.Random, channel: str, text: str, subject: str, fill: dict[str, str]) -> str:
    if channel == "email":
        signoff = rng.choice(_SIGNOFFS).format(**fill)
        return f"{rng.choice(_GREETINGS)}\n\n{text}\n\n{signoff}"
    if channel == "chat":
        return f"hi, {text[0].lower()}{text[1:]}"
    if channel == "phone":
        return f"Call summary (agent): customer reports '{subject}'. In their words: {text}"
    return f"@shop_help {subject.lower().rstrip('?!.')}?! {text}"


def _rounded(record: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()}
