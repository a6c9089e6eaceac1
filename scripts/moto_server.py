"""Starts moto's server (same arguments as `moto_server`) with three fixes, two to its DynamoDB
and one to its SQS.

1. Atomic requests. moto serves each HTTP request on its own thread and evaluates a condition
and writes the item in separate steps without a lock, so two concurrent conditional writes to
one item can both pass their condition (seen: a dispatcher's `sent` and a delivery report's
`sent` both recorded). DynamoDB applies each request to an item atomically; here every
DynamoDB request runs under one lock, which gives the same guarantee.

2. Speed of DynamoDB transactions. moto 5.2.5 backs up the *whole table* with copy.deepcopy
before every TransactWriteItems, so it can roll back a cancelled transaction. A table of N items
then costs O(N) per transaction and N transactions O(N^2): with a few thousand messages (every
`sent` is a transaction with its carrier-reference item) moto spends minutes copying and grows
to gigabytes, and the end-to-end suite on `serve --backend aws` times out.

The fix keeps moto's transaction code and its semantics: the whole-table copy becomes a no-op,
and instead the items the transaction names are saved before it runs and put back exactly as
they were if it is cancelled (a failed condition, a validation error). Only those items can
have changed, so the rollback is the same as moto's.

3. Speed of SQS. moto counts a queue's messages (ApproximateNumberOfMessages and its
delayed/not-visible siblings) by walking every message, and does so on every SendMessage and
for every message a ReceiveMessage returns, so a queue of N jobs costs O(N) per call. The counts
are approximate in SQS too; here each is kept for one second per queue.

Werkzeug's line per request is also left out of the log.
"""

import copy
import logging
import sys
import threading
import time

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import Queue

_real_deepcopy = copy.deepcopy


class _NoTableCopy:
    """Stands in for the `copy` module inside moto.dynamodb.models: tables are not copied."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(x, memo=None):
        if isinstance(x, Table):
            return x
        return _real_deepcopy(x, memo)


def _touched(backend, transact_items):
    """(table, hash key, range key, saved item or None) for every item a transaction names."""
    saved = []
    for entry in transact_items:
        if len(entry) != 1:
            continue
        (_, op), = entry.items()
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op.get("Key") or op.get("Item") or {}
        if table.hash_key_attr not in key:
            continue
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                continue
            range_key = DynamoType(key[table.range_key_attr])
        try:
            current = table.get_item(hash_key, range_key)
        except Exception:  # a malformed key: moto's own code reports it
            current = None
        saved.append((table, hash_key, range_key, _real_deepcopy(current)))
    return saved


def _restore(saved):
    for table, hash_key, range_key, item in reversed(saved):
        if item is None:
            try:
                table.delete_item(hash_key, range_key)
            except Exception:
                pass
        elif range_key is None:
            table.items[hash_key] = item
        else:
            table.items[hash_key][range_key] = item


_original = DynamoDBBackend.transact_write_items


def transact_write_items(self, transact_items):
    saved = _touched(self, transact_items)
    try:
        return _original(self, transact_items)
    except Exception:
        _restore(saved)
        raise


_dynamodb_lock = threading.RLock()
_call_action = DynamoHandler.call_action


def call_action(self):
    with _dynamodb_lock:
        return _call_action(self)


DynamoHandler.call_action = call_action
dynamodb_models.copy = _NoTableCopy()
DynamoDBBackend.transact_write_items = transact_write_items



def _kept_for_a_second(name):
    compute = getattr(Queue, name).fget

    def get(self):
        kept = self.__dict__.setdefault("_approximate_counts", {})
        now = time.monotonic()
        hit = kept.get(name)
        if hit is not None and now - hit[0] < 1.0:
            return hit[1]
        value = compute(self)
        kept[name] = (now, value)
        return value

    setattr(Queue, name, property(get))


for _name in (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
):
    _kept_for_a_second(_name)

logging.getLogger("werkzeug").setLevel(logging.WARNING)

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
