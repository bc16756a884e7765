"""The filesystem broker (no Redis configured): a worker never takes a message before it is
written whole (kombu's own transport let it read an empty file, lose the message and die)."""

import uuid
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from prime_now.kernel import file_broker


@pytest.fixture
def queue_name():
    # kombu keeps a transport's bindings per process: a name of its own per test.
    return f"tasks-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def broker(tmp_path):
    folders = {name: tmp_path / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir()
    options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
        "polling_interval": 0.01,
    }
    with Connection("filesystem://", transport=file_broker.Transport,
                    transport_options=options) as connection:  # fmt: skip
        yield connection, folders["queue"]


def test_a_worker_looking_while_a_message_is_being_written_sees_nothing_yet(
    broker, queue_name, monkeypatch
):
    # Given a worker's channel that looks at the queue in the middle of a message's write
    connection, _ = broker
    consumer = connection.SimpleQueue(queue_name)
    looker = connection.channel()
    seen = []
    dumps = file_broker.dumps

    def dumps_while_a_worker_looks(payload):
        try:
            seen.append(looker._get(queue_name))
        except Empty:
            seen.append("nothing")
        return dumps(payload)

    monkeypatch.setattr(file_broker, "dumps", dumps_while_a_worker_looks)

    # When a message is published
    connection.SimpleQueue(queue_name).put({"n": 1})

    # Then the worker saw nothing then (kombu's own transport handed it the empty file: the
    # message lost, the worker dead on the JSON error), and the message is there, whole
    assert seen == ["nothing"]
    assert consumer.get(timeout=5).payload == {"n": 1}


def test_a_message_that_cannot_be_written_whole_is_refused_and_leaves_no_part_behind(
    broker, queue_name, monkeypatch
):
    # Given a disk that fills up while a message is written
    connection, folder = broker

    def disk_full(payload):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_broker, "str_to_bytes", disk_full)

    # When a message is published, then the publisher is told (kombu's channel error)
    with pytest.raises(ChannelError):
        connection.SimpleQueue(queue_name).put({"n": 1})

    # And the queue folder holds nothing: no message, no half-written part
    assert list(folder.iterdir()) == []
