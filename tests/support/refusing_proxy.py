"""A loopback proxy in front of moto that answers chosen JSON-protocol operations (DynamoDB, Application Auto
Scaling, Data Pipeline) with an error code: the refusals of a least-privilege role, or of an endpoint that lacks
a call, which moto (granting everything, offering these calls) never gives."""

from __future__ import annotations

import json

from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request


class RefusingProxy(ForwardingProxy):
    """`refuse`: operation name (as X-Amz-Target ends) -> the error code to answer it with (400). Every operation
    that passes is counted in `calls`, refused or not."""

    def __init__(self, upstream: str, refuse: dict[str, str]) -> None:
        super().__init__(upstream)
        self.refuse = refuse
        self.calls: list[str] = []

    def serve(self, request: Request, send: Answer) -> None:
        self.calls.append(request.operation)
        code = self.refuse.get(request.operation)
        if code is None:
            send(self.forward(request))
            return
        body = json.dumps({"__type": code, "message": "refused by the test proxy"}).encode()
        send(Reply(400, [("Content-Type", "application/x-amz-json-1.1")], body))

    def __enter__(self) -> RefusingProxy:
        super().__enter__()
        return self
