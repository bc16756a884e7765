"""kombu's filesystem transport (the Celery broker when no Redis is configured), with each
message written whole before a worker can see it (settings: CELERY_BROKER_TRANSPORT).

Why: kombu writes a message into its final file name, and a worker takes a file by moving it
away and reading it, without the writer's lock. A worker that looked at the folder between
the file's creation and its write read it empty: the message was lost and the worker died on
the JSON error ("Unrecoverable error"; a game day on `make run` saw it six times in twenty
minutes once workers looked every 0.05 s). Here a message is written under a name no worker
reads (`.part`) and renamed into place, which is atomic.
"""

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

PARTIAL = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # kombu's own name: ordered by time, and ending in ".<queue>.msg" for the readers.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        try:
            with open(final + PARTIAL, "wb") as partial:
                partial.write(str_to_bytes(dumps(payload)))  # type: ignore[no-untyped-call]
            os.replace(final + PARTIAL, final)
        except OSError as exc:
            with contextlib.suppress(OSError):  # no reader takes a part; nothing else would
                os.remove(final + PARTIAL)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
