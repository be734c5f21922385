"""The embedded broker: kombu's filesystem transport, with each message written atomically.

kombu (5.7) creates a message's file and then writes into it. A worker polling the folder in
between takes the still-empty file, fails to decode it, and its consumer stops; the message is
lost (three workers on one queue hit it, and `tests/test_broker.py` shows it in a few hundred
messages). Here a message is written under a name no queue reads (".part" after ".msg") and renamed
into place: a rename is atomic, so a worker finds a whole message or none.
hub/celery.py makes `filesystem://` use this transport (docs/embedded-services.md)."""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu gives it: readers take the files in name order, and match "<queue>.msg".
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
