"""moto server whose DynamoDB requests are handled one at a time.

moto serves each request on a thread of its own and checks a write's condition without a lock,
so two concurrent conditional PutItems on the same item can both succeed; DynamoDB never lets
them. Tests that prove exactly-once claims under concurrent invocations start moto through this
wrapper (`MotoServer::start_atomic_dynamodb`): the same server and arguments, each DynamoDB
request atomic as in DynamoDB. Other services stay concurrent.

moto also backs up a table before a TransactWriteItems once per item that names it (a deep
copy each time, all taken before any item is applied, so all equal): a 100-item transaction on a
table of a few thousand items took seconds, which made benchmark times moto's. The wrapper takes
that backup once per table per transaction; the copies moto restores on a cancelled transaction
are the same.
"""

import copy
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _atomic_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _atomic_call_action


class _TableBackupOncePerTransaction:
    """Stands in for the `copy` module inside moto's DynamoDB models: within a transaction (one
    at a time, under `_lock`), a table's deep copy is made once and reused."""

    def __init__(self):
        self.backups = None

    def deepcopy(self, value, memo=None):
        if self.backups is None or not isinstance(value, Table):
            return copy.deepcopy(value, memo)
        if id(value) not in self.backups:
            self.backups[id(value)] = copy.deepcopy(value, memo)
        return self.backups[id(value)]

    def __getattr__(self, name):
        return getattr(copy, name)


_copies = _TableBackupOncePerTransaction()
dynamodb_models.copy = _copies
_transact_write_items = DynamoDBBackend.transact_write_items


def _transact_write_items_backing_up_once(self, transact_items):
    _copies.backups = {}
    try:
        return _transact_write_items(self, transact_items)
    finally:
        _copies.backups = None


DynamoDBBackend.transact_write_items = _transact_write_items_backing_up_once
main(sys.argv[1:])
