"""Amazon SES: sending a prepared MIME message."""

from __future__ import annotations

from email.message import EmailMessage
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient


class SesMailer:
    def __init__(self, client: SESClient) -> None:
        self._client = client

    def send(self, email: EmailMessage, *, source: str, recipient: str) -> str:
        """Send ``email`` exactly as built; returns SES's message id."""
        response = self._client.send_raw_email(
            Source=source, Destinations=[recipient], RawMessage={"Data": email.as_bytes()}
        )
        return response["MessageId"]
