"""The embedded broker: kombu's filesystem transport, with each message written and taken atomically.

kombu (5.7) creates a message's file and then writes into it. A worker polling the folder in
between takes the still-empty file, fails to decode it, and its consumer stops; the message is
lost (three workers on one queue hit it). Here a message is written under a name no queue reads
(".part" after ".msg") and renamed into place: a worker finds a whole message or none.

Taking a message, kombu moves it to the system's temporary folder when processed messages are not
kept: where /tmp is another filesystem (a tmpfs), that move is a copy, which two workers can both
make into the same file and read cut. Here it is renamed into the processed folder, beside the queue
(hub/settings.py keeps both under CELERY_BROKER_DIR): exactly one worker takes it, whole.
hub/celery.py makes `filesystem://` use this transport (docs/embedded-services.md,
tests/test_broker.py)."""

import os
import time
import uuid
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

PARTIAL = ".part"
# A message is written in milliseconds; a part this old belongs to a writer that died mid-write.
ABANDONED_PART_SECONDS = 3600


def sweep_abandoned_parts(folder: str, *, older_than: float = ABANDONED_PART_SECONDS) -> int:
    """Delete the half-written messages of writers killed mid-write (no queue reads them, so they
    would stay for ever); hub/celery.py calls it when a process starts. Returns how many went."""
    deleted, cutoff = 0, time.time() - older_than
    for entry in os.scandir(folder):
        if not entry.name.endswith(".msg" + PARTIAL):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                deleted += 1
        except FileNotFoundError:  # renamed into place or swept by another process meanwhile
            continue
    return deleted


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu gives it: readers take the files in name order, and match "<queue>.msg".
        name = f"{int(round(time.monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):  # oldest first, as kombu takes them
            if name.partition(".")[2] != wanted:
                continue
            taken = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), taken)
            except FileNotFoundError:
                if not os.path.isdir(self.processed_folder):  # hub/celery.py makes it at start-up
                    raise ChannelError(f"The processed folder {self.processed_folder!r} is missing") from None
                continue  # another worker took it first
            except OSError as exc:
                raise ChannelError(
                    f"Cannot take {name!r}: the processed folder must be on the queue folder's filesystem"
                ) from exc
            try:
                with open(taken, "rb") as f:
                    payload = f.read()
                if not self.store_processed:
                    os.remove(taken)
            except OSError as exc:
                raise ChannelError(f"Cannot read file {taken!r} from queue.") from exc
            return loads(bytes_to_str(payload))
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel
