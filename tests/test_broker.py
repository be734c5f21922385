"""The embedded broker (hub/broker.py): a message is never taken half-written, and only once."""

import multiprocessing
import os
import tempfile
from queue import Empty

import pytest
from celery import Celery
from kombu import Connection

from hub.broker import Transport
from hub.celery import _make_broker_folders  # importing hub.celery makes filesystem:// mean Transport

PRODUCERS, CONSUMERS, MESSAGES = 2, 3, 40
BODY = "x" * (1 << 20)
SHM = "/dev/shm"


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


def _workers_take_every_message(tmp_path):
    """Two producer and three consumer processes, as workers are, on both cores; messages of 1 MiB
    make each write and copy last long enough to be caught in the middle in every run."""
    queue, processed = tmp_path / "queue", tmp_path / "processed"
    queue.mkdir()
    processed.mkdir()  # hub/celery.py makes the broker's folders
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
        "store_processed": False,  # as hub/settings.py sets them
    }
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
    assert os.listdir(queue) == [] and os.listdir(processed) == []


def test_messages_put_while_three_workers_poll_all_arrive_whole_and_once(tmp_path):
    """kombu's own transport creates a message's file, then writes it: a worker polling meanwhile
    took it empty or cut, failed to decode it (its consumer stopped) and the message was lost."""
    _workers_take_every_message(tmp_path)


@pytest.mark.skipif(
    not os.path.isdir(SHM) or os.stat(SHM).st_dev == os.stat(tempfile.gettempdir()).st_dev,
    reason="needs a tmpfs at /dev/shm, apart from the temporary folder",
)
def test_one_worker_takes_each_message_when_the_temporary_folder_is_another_filesystem(tmp_path, monkeypatch):
    """kombu moves a taken message to the system's temporary folder: on another filesystem (a tmpfs
    /tmp, as on many desktops) a copy, which two workers could both make and read cut."""
    elsewhere = tempfile.mkdtemp(dir=SHM)
    monkeypatch.setattr(tempfile, "tempdir", elsewhere)
    try:
        _workers_take_every_message(tmp_path)
    finally:
        os.rmdir(elsewhere)


def test_a_message_left_half_written_by_a_killed_writer_is_swept_and_a_new_one_kept(tmp_path):
    # What a producer killed between writing and renaming leaves: a part no queue ever reads.
    abandoned = tmp_path / "1_dead.q.msg.part"
    abandoned.write_bytes(b'{"body": "cut')
    old = os.path.getmtime(abandoned) - 2 * 3600
    os.utime(abandoned, (old, old))
    being_written = tmp_path / "2_live.q.msg.part"  # a writer at work now
    being_written.write_bytes(b"{")
    waiting = tmp_path / "3_whole.q.msg"
    waiting.write_bytes(b"{}")
    app = Celery(set_as_current=False)
    app.conf.broker_transport_options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    _make_broker_folders(app)  # what every process does when Celery is configured
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2_live.q.msg.part", "3_whole.q.msg"]
