"""SMS transport behind one small interface: a logging provider by default (messages land in
instance/sms and the log), Twilio when configured."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

from app.services.mail import PermanentDeliveryError
from models import OutboxMessage

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    def send(self, message: OutboxMessage) -> str:
        """Send one text; returns the provider's message id."""


class LoggingSmsProvider:
    """Writes each text to instance/sms/ and the log: for development and demos."""

    def send(self, message: OutboxMessage) -> str:
        folder = Path(current_app.config["PORTICO_INSTANCE_PATH"]) / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message.id:06d}.txt"
        path.write_text(f"To: {message.recipient}\n\n{message.body_text}")
        log.info("SMS to %s written to %s", message.recipient, path)
        return path.name


class TwilioSmsProvider:
    """Sends through Twilio's Messages API with the official client."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str) -> None:
        from twilio.rest import Client

        self.from_number = from_number
        self.client = Client(account_sid, auth_token, http_client=_http_client(api_url))

    def send(self, message: OutboxMessage) -> str:
        from twilio.base.exceptions import TwilioRestException

        try:
            sent = self.client.messages.create(
                to=message.recipient, from_=self.from_number, body=message.body_text
            )
        except TwilioRestException as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                raise PermanentDeliveryError(f"Twilio refused it: {exc.msg}") from None
            raise
        return str(sent.sid)


def _http_client(api_url: str) -> Any:
    """Twilio's HTTP client, pointed at ``api_url`` when it is not Twilio's own address."""
    from twilio.http.http_client import TwilioHttpClient

    official = "https://api.twilio.com"

    class Client(TwilioHttpClient):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if api_url != official and url.startswith(official):
                url = api_url + url[len(official) :]
            return super().request(method, url, *args, **kwargs)

    return Client(timeout=30)


def provider() -> SmsProvider:
    config = current_app.config
    if config["PORTICO_SMS_PROVIDER"] == "twilio":
        return TwilioSmsProvider(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_FROM_NUMBER"],
            config["TWILIO_API_URL"],
        )
    return LoggingSmsProvider()
