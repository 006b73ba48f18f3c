"""moto server in a thread of the test process, on a free 127.0.0.1 port: real HTTP, for unit tests.

ansible-test runs each unit test in a fork of its own, so a server process a session fixture starts
(tests/conftest.py's moto_server) would be started again, and left running, for every test; and dynalite is
not in the tree ansible-test copies. A thread ends with its fork. Integration tests use the server processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

# The request log of moto's werkzeug server, and its traceback for each call moto lacks, would fill every
# failing test's output.
logging.getLogger("werkzeug").setLevel(logging.CRITICAL)


@contextmanager
def moto_in_thread() -> Iterator[str]:
    """A moto server for the duration of the block; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
