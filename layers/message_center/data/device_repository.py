"""Registered push devices: ``USER#<owner>``/``DEVICE#<id>`` per owner, and ``DEVICE#<id>`` → owner,
so a token that moves to another account stops notifying the previous one."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from ..domain.devices import Device, Platform
from .items import DeviceItem, DeviceOwnerItem


def _device_key(owner_id: str, device_id: str) -> tuple[str, str]:
    return f"USER#{owner_id}", f"DEVICE#{device_id}"


def _to_device(item: DeviceItem) -> Device:
    return Device(
        id=item.sk.removeprefix("DEVICE#"),
        owner_id=item.pk.removeprefix("USER#"),
        platform=Platform(item.platform),
        endpoint_arn=item.endpoint_arn,
        created_at=item.created_at,
    )


class DeviceRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def list_for(self, owner_id: str) -> list[Device]:
        """A Query on the owner's partition, device items only."""
        return [
            _to_device(item)
            for item in DeviceItem.query(f"USER#{owner_id}", DeviceItem.sk.startswith("DEVICE#"), consistent_read=True)
        ]

    def get(self, owner_id: str, device_id: str) -> Device | None:
        try:
            return _to_device(DeviceItem.get(*_device_key(owner_id, device_id), consistent_read=True))
        except DoesNotExist:
            return None

    def owner_of(self, device_id: str) -> str | None:
        try:
            return DeviceOwnerItem.get(f"DEVICE#{device_id}", "DEVICE", consistent_read=True).owner_id
        except DoesNotExist:
            return None

    def save(self, device: Device, previous_owner: str | None) -> None:
        """Register the device for its owner, taking it away from a previous owner."""
        with TransactWrite(connection=self._connection) as transaction:
            transaction.save(
                DeviceItem(
                    *_device_key(device.owner_id, device.id),
                    platform=device.platform.value,
                    endpoint_arn=device.endpoint_arn,
                    created_at=device.created_at,
                )
            )
            transaction.save(DeviceOwnerItem(f"DEVICE#{device.id}", "DEVICE", owner_id=device.owner_id))
            if previous_owner and previous_owner != device.owner_id:
                transaction.delete(DeviceItem(*_device_key(previous_owner, device.id)))

    def delete(self, device: Device) -> None:
        with TransactWrite(connection=self._connection) as transaction:
            transaction.delete(DeviceItem(*_device_key(device.owner_id, device.id)))
            transaction.delete(
                DeviceOwnerItem(f"DEVICE#{device.id}", "DEVICE"),
                condition=DeviceOwnerItem.owner_id == device.owner_id,
            )
