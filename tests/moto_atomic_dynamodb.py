"""moto server whose DynamoDB requests are handled one at a time.

moto serves each request on a thread of its own and checks a write's condition without a lock,
so two concurrent conditional PutItems on the same item can both succeed; DynamoDB never lets
them. Tests that prove exactly-once claims under concurrent invocations start moto through this
wrapper (`MotoServer::start_atomic_dynamodb`): the same server and arguments, each DynamoDB
request atomic as in DynamoDB. Other services stay concurrent.
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _atomic_call_action(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _atomic_call_action
main(sys.argv[1:])
