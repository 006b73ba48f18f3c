"""A loopback proxy in front of moto server that records every AWS call as IAM would authorize it: the
action, the resource ARN derived from the request, and the condition keys the collection's policies use
(aws:RequestedRegion, s3:prefix, aws:RequestTag/*, aws:ResourceTag/* and datapipeline:Tag/* of what the
calls created, as the proxy saw them created).

The service and region come from the request's SigV4 credential scope, the account from the proxy's
`account` (moto's answers name it too, but the policies are judged for the account setup ran in).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlparse

from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request
from tests.support.iam_evaluator import ContextValue

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
# Calls IAM never authorizes against the caller's identity policies.
UNAUTHORIZED = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    context: dict[str, ContextValue] = field(default_factory=dict)
    operation: str = ""  # the API operation (CreateMultipartUpload is authorized as s3:PutObject)


class RecordingProxy(ForwardingProxy):
    def __init__(self, upstream: str, account: str, tags: dict[str, dict[str, str]] | None = None) -> None:
        """`tags`: cluster or pipeline id -> its tags, shared by the proxies of calls that follow one another."""
        super().__init__(upstream)
        self.account = account
        self.calls: list[Call] = []
        self._tags = {} if tags is None else tags
        self._lock = threading.Lock()

    def serve(self, request: Request, send: Answer) -> None:
        reply = self.forward(request)
        scope = _SCOPE.search(request.headers.get("Authorization", ""))
        if scope and reply.status < 500:
            region, service = scope.groups()
            with self._lock:
                self.calls.extend(c for c in self._calls(service, region, request, reply)
                                  if c.action not in UNAUTHORIZED)
        send(reply)

    def _calls(self, service: str, region: str, request: Request, reply: Reply) -> list[Call]:
        base: dict[str, ContextValue] = {"aws:RequestedRegion": region}
        if service == "s3":
            return self._s3(request, base)
        target = request.headers.get("X-Amz-Target", "")
        if target:
            operation = target.rsplit(".", 1)[-1]
            body = json.loads(request.body or b"{}")
            answer = json.loads(reply.body or b"{}") if reply.status < 300 else {}
        else:  # the query protocol (sts, sns, iam)
            form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
            operation, body, answer = form.get("Action", ""), form, {}
        arn = f"arn:aws:{{}}:{region}:{self.account}"
        if service == "dynamodb":
            return self._dynamodb(operation, body, arn.format("dynamodb"), base)
        if service == "elasticmapreduce":
            return self._emr(operation, body, answer, arn.format("elasticmapreduce"), base)
        if service == "datapipeline":
            return self._pipeline(operation, body, answer, base)
        if service == "sns":
            return [Call(f"sns:{operation}", body.get("TopicArn", "*"), base, operation)]
        prefix = {"application-autoscaling": "application-autoscaling"}.get(service, service)
        return [Call(f"{prefix}:{operation}", "*", base, operation)]

    def _dynamodb(self, op: str, body: dict, arn: str, base: dict[str, ContextValue]) -> list[Call]:
        def table(name: str) -> str:
            return name if name.startswith("arn:") else f"{arn}:table/{name}"

        if op == "BatchWriteItem":
            return [Call(f"dynamodb:{op}", table(name), base, op) for name in body.get("RequestItems", {})]
        if op == "DescribeExport":  # moto names an export .../import/<id>; AWS .../export/<id>
            return [Call(f"dynamodb:{op}", body["ExportArn"].replace("/import/", "/export/"), base, op)]
        resource = (body.get("ResourceArn") or body.get("TableArn") or body.get("ImportArn") or body.get("TableName")
                    or (body.get("TableCreationParameters") or {}).get("TableName"))
        if op in ("ListTables", "DescribeLimits", "ListExports", "ListImports") or not resource:
            resource = "*"
        return [Call(f"dynamodb:{op}", table(resource) if resource != "*" else "*", base, op)]

    def _emr(self, op: str, body: dict, answer: dict, arn: str, base: dict[str, ContextValue]) -> list[Call]:
        if op == "RunJobFlow":
            tags = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
            if answer.get("JobFlowId"):
                self._tags[answer["JobFlowId"]] = tags
            context = {**base, **{f"aws:RequestTag/{k}": v for k, v in tags.items()},
                       "aws:TagKeys": list(tags)}
            return [Call(f"elasticmapreduce:{op}", "*", context, op)]
        ids = body.get("JobFlowIds") or [body.get("ClusterId") or body.get("JobFlowId")]
        return [Call(f"elasticmapreduce:{op}", f"{arn}:cluster/{cid}" if cid else "*",
                     {**base, **{f"aws:ResourceTag/{k}": v for k, v in self._tags.get(cid or "", {}).items()}}, op)
                for cid in ids]

    def _pipeline(self, op: str, body: dict, answer: dict, base: dict[str, ContextValue]) -> list[Call]:
        if op == "CreatePipeline":
            tags = {t["key"]: t["value"] for t in body.get("tags", [])}
            if answer.get("pipelineId"):
                self._tags[answer["pipelineId"]] = tags
            return [Call(f"datapipeline:{op}", "*", {**base, **{f"aws:RequestTag/{k}": v for k, v in tags.items()},
                                                     "aws:TagKeys": list(tags)}, op)]
        ids = body.get("pipelineIds") or ([body["pipelineId"]] if body.get("pipelineId") else [None])
        return [Call(f"datapipeline:{op}", "*",
                     {**base, **{f"datapipeline:Tag/{k}": v for k, v in self._tags.get(pid or "", {}).items()}}, op)
                for pid in ids]

    def _s3(self, request: Request, base: dict[str, ContextValue]) -> list[Call]:
        url = urlparse(request.path)
        query = parse_qs(url.query, keep_blank_values=True)
        bucket, _slash, key = unquote(url.path).lstrip("/").partition("/")
        bucket_arn, object_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{key}"
        method = request.method
        if not key:
            if method == "HEAD":
                return [Call("s3:ListBucket", bucket_arn, base, "HeadBucket")]
            if method == "GET" and "encryption" in query:
                return [Call("s3:GetEncryptionConfiguration", bucket_arn, base, "GetBucketEncryption")]
            if method == "GET" and "object-lock" in query:
                return [Call("s3:GetBucketObjectLockConfiguration", bucket_arn, base, "GetObjectLockConfiguration")]
            if method == "GET":  # a listing: s3:prefix is the Prefix asked for, "" without one
                return [Call("s3:ListBucket", bucket_arn, {**base, "s3:prefix": query.get("prefix", [""])[0]},
                             "ListObjectsV2")]
            if method == "POST" and "delete" in query:
                keys = [unquote(k.decode()) for k in re.findall(rb"<Key>(.*?)</Key>", request.body)]
                return [Call("s3:DeleteObject", f"{bucket_arn}/{k}", base, "DeleteObjects") for k in keys]
            return [Call(f"s3:{method}Bucket", bucket_arn, base, f"{method} bucket")]
        if method in ("GET", "HEAD"):
            return [Call("s3:GetObject", object_arn, base, f"{method}Object")]
        if method == "DELETE":
            action = "s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject"
            return [Call(action, object_arn, base, method)]
        # PutObject and CompleteMultipartUpload create the object; CreateMultipartUpload and UploadPart do not.
        creates = (method == "PUT" and "partNumber" not in query) or (method == "POST" and "uploadId" in query)
        context = {**base, "s3:ObjectCreationOperation": "true" if creates else "false"}
        if request.headers.get("If-None-Match") or request.headers.get("if-none-match"):
            context["s3:if-none-match"] = request.headers.get("If-None-Match") or request.headers["if-none-match"]
        return [Call("s3:PutObject", object_arn, context, f"{method}Object")]
