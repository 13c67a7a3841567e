"""
The portal under load: Borrowers' finance users uploading statements through the page
while Lenders' users read the dashboards and the API. Run by ``loadtest/run.sh`` (``make
loadtest``), which seeds the accounts this file reads from LOADTEST_USERS.

The run has two phases. First every user signs in (and each Lender's account gets an API
token): a password check costs about half a second of CPU by design, so fifty sign-ins at
once are a storm of their own, measured and reported apart (LOADTEST_OUT/sign_in.json).
Then the statistics are reset and the mix runs for LOADTEST_SECONDS with every user signed
in. Every request must succeed: a page that answers anything but what the journey expects
counts as a failure, and so does an upload that is not confirmed.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from decimal import Decimal
from pathlib import Path

import gevent.event
import urllib3
from locust import HttpUser, LoadTestShape, between, task

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the run's own self-signed certificate

ACCOUNTS = json.loads(open(os.environ["LOADTEST_USERS"]).read())  # noqa: SIM115 - read once at import
PASSWORD = ACCOUNTS["password"]
SHA256 = re.compile(r'name="sha256" value="([0-9a-f]{64})"')
SUBMISSION = re.compile(r"/agreements/\d+/statements/\d+/$")
USERS = int(os.environ.get("LOADTEST_USERS_COUNT", "50"))
SECONDS = float(os.environ.get("LOADTEST_SECONDS", "60"))
SPAWN_RATE = 10
#: Seconds a user spends on a page before the next click (LOADTEST_WAIT="low,high").
WAIT = tuple(float(x) for x in os.environ.get("LOADTEST_WAIT", "2,5").split(","))
OUT = Path(os.environ.get("LOADTEST_OUT", "."))
_borrowers = itertools.cycle(ACCOUNTS["borrowers"])
_lenders = itertools.cycle(ACCOUNTS["lenders"])
_tokens: dict[str, str] = {}


class _Phases:
    """Counts users signed in; the last one starts the measured mix."""

    signed_in = 0
    mix_started: float | None = None
    everyone_in = gevent.event.Event()


def _signed_in(user: HttpUser) -> None:
    _Phases.signed_in += 1
    if _Phases.signed_in == USERS:
        stats = user.environment.runner.stats
        OUT.joinpath("sign_in.json").write_text(
            json.dumps(
                {
                    f"{entry.method} {entry.name}": {
                        "count": entry.num_requests,
                        "failures": entry.num_failures,
                        "p50": entry.get_response_time_percentile(0.5),
                        "p95": entry.get_response_time_percentile(0.95),
                    }
                    for entry in stats.entries.values()
                }
            )
        )
        stats.reset_all()
        _Phases.mix_started = time.monotonic()
        _Phases.everyone_in.set()
    else:
        _Phases.everyone_in.wait(timeout=600)


class SignInThenMix(LoadTestShape):
    """All users, until SECONDS after the last of them signed in."""

    def tick(self) -> tuple[int, float] | None:
        started = _Phases.mix_started
        if started is not None and time.monotonic() - started >= SECONDS:
            return None
        return USERS, SPAWN_RATE


class PortalUser(HttpUser):
    """A signed-in user of the portal (HTTPS, as production settings require)."""

    abstract = True
    wait_time = between(*WAIT)
    account: dict

    def on_start(self) -> None:
        self.client.verify = False
        # Django checks the Referer of HTTPS form posts against the host.
        self.client.headers["Referer"] = f"{self.host}/"
        self.client.get("/accounts/login/", name="sign-in page")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.account["username"],
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")
        self.sign_in_more()
        _signed_in(self)

    def sign_in_more(self) -> None:
        """What else a user does before the mix starts."""

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/", name="dashboard /")

    def agreement_page(self, agreement: int) -> None:
        self.client.get(f"/agreements/{agreement}/", name="agreement page")


class BorrowerUser(PortalUser):
    """A Borrower's finance team: checks its dashboard and uploads the quarter's figures."""

    weight = 2

    def on_start(self) -> None:
        self.account = next(_borrowers)
        super().on_start()

    @task(2)
    def own_agreement(self) -> None:
        self.agreement_page(self.account["agreement"])

    @task(2)
    def upload_statement(self) -> None:
        """The page's journey: the upload page, the file checked and shown, then confirmed."""
        agreement = self.account["agreement"]
        upload_url = f"/agreements/{agreement}/statements/upload/"
        self.client.get(upload_url, name="upload page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            upload_url,
            data={"csrfmiddlewaretoken": token},
            files={"file": ("statement.csv", self.statement_file(), "text/csv")},
            name="upload: file checked",
            catch_response=True,
        ) as checked:
            found = SHA256.search(checked.text or "")
            if checked.status_code != 200 or not found:
                checked.failure(f"the file was not accepted for confirmation ({checked.status_code})")
                return
        with self.client.post(
            f"/agreements/{agreement}/statements/confirm/",
            data={"csrfmiddlewaretoken": token, "sha256": found.group(1), "action": "confirm"},
            name="upload: confirmed",
            allow_redirects=False,
            catch_response=True,
        ) as confirmed:
            location = confirmed.headers.get("Location", "")
            if confirmed.status_code != 302 or not SUBMISSION.search(location):
                confirmed.failure(f"not recorded: {confirmed.status_code} to {location!r}")
                return
        self.client.get(location, name="submission page")
        self.client.get(f"{location}progress/", name="evaluation progress", headers={"HX-Request": "true"})

    def statement_file(self) -> bytes:
        """One fiscal quarter's figures for both Borrowers, around the covenant's minimum."""
        index = random.randrange(len(ACCOUNTS["quarters"]))
        quarter = ACCOUNTS["quarters"][index]
        combined = Decimal(ACCOUNTS["minimums"][index]) * Decimal(random.randint(90, 125)) / 100
        lines = ["entity,period_end,line_item,amount"]
        for share, name in zip((Decimal("0.6"), Decimal("0.4")), self.account["entities"], strict=True):
            lines.append(f'{name},{quarter},Revenues,"{(combined * share).quantize(Decimal("1")):,}"')
            lines.append(f'{name},{quarter},EBITDA,"({random.randint(100_000, 900_000):,})"')
        return ("\n".join(lines) + "\n").encode()


class LenderUser(PortalUser):
    """A Lender's user: dashboards, agreement pages, and the API with a token."""

    weight = 3

    def on_start(self) -> None:
        self.account = next(_lenders)
        self.token = ""
        super().on_start()

    def sign_in_more(self) -> None:
        """The API is read with a token, as an integration would: one per account."""
        self.token = _tokens.get(self.account["username"], "")
        if self.token:
            return
        with self.client.post(
            "/api/v1/auth/token/",
            json={"username": self.account["username"], "password": PASSWORD},
            name="API: token",
            catch_response=True,
        ) as response:
            if response.status_code == 404:
                response.success()  # no API on this build: the API tasks stand down
            elif response.status_code != 200:
                response.failure(f"no token: {response.status_code}")
            else:
                self.token = _tokens[self.account["username"]] = response.json().get("token", "")

    @task(3)
    def an_agreement(self) -> None:
        self.agreement_page(random.choice(self.account["agreements"]))

    @task(2)
    def api_results(self) -> None:
        if self.token:
            self.client.get(
                f"/api/v1/covenant-tests/?agreement={random.choice(self.account['agreements'])}&is_current=true",
                headers={"Authorization": f"Token {self.token}"},
                name="API: covenant tests of an agreement",
            )

    @task(1)
    def api_agreements(self) -> None:
        if self.token:
            self.client.get(
                "/api/v1/agreements/", headers={"Authorization": f"Token {self.token}"}, name="API: agreements"
            )
