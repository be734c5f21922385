"""The embedded broker (hub/broker.py): a message is never taken half-written."""

import multiprocessing
import os
from queue import Empty

from kombu import Connection

import hub.celery  # noqa: F401  (it makes filesystem:// mean hub.broker's transport)
from hub.broker import Transport

PRODUCERS, CONSUMERS, MESSAGES = 2, 3, 40
BODY = "x" * (1 << 20)


def test_filesystem_urls_use_the_atomic_transport(tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with Connection("filesystem://", transport_options=options) as connection:
        assert isinstance(connection.transport, Transport)


def _produce(options: dict, producer: int):
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.channel()
        for n in range(MESSAGES):
            channel._put("q", {"n": f"{producer}-{n}", "body": BODY})


def _consume(options: dict, producers_done, results):
    folder = options["data_folder_in"]
    received, failures = [], []
    with Connection("filesystem://", transport_options=options) as connection:
        channel = connection.channel()
        while not producers_done.is_set() or any(name.endswith(".q.msg") for name in os.listdir(folder)):
            try:
                message = channel._get("q")
            except Empty:
                continue
            except Exception as exc:  # what stops a worker's consumer
                failures.append(repr(exc)[:100])
                continue
            received.append((message["n"], message["body"] == BODY))
    results.put((received, failures))


def test_messages_put_while_three_workers_poll_all_arrive_whole_and_once(tmp_path):
    """kombu's own transport creates a message's file, then writes it: a worker polling meanwhile
    took it empty or cut, failed to decode it (its consumer stopped) and the message was lost.
    Processes, as workers are, on both cores; messages of 1 MiB make that moment long enough to
    hit in every run."""
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False}
    context = multiprocessing.get_context("fork")
    producers_done, results = context.Event(), context.Queue()
    consumers = [
        context.Process(target=_consume, args=(options, producers_done, results)) for _ in range(CONSUMERS)
    ]
    producers = [context.Process(target=_produce, args=(options, p)) for p in range(PRODUCERS)]
    for process in consumers + producers:
        process.start()
    for process in producers:
        process.join(timeout=60)
    producers_done.set()
    answers = [results.get(timeout=60) for _ in consumers]
    for process in consumers:
        process.join(timeout=60)

    assert [failure for _, failures in answers for failure in failures] == []
    received = sorted(item for got, _ in answers for item in got)
    assert received == sorted((f"{p}-{n}", True) for p in range(PRODUCERS) for n in range(MESSAGES))
    assert os.listdir(tmp_path) == []  # nothing half-written left behind
