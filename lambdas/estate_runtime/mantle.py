"""The OpenAI-compatible fine-tuning API of Amazon Bedrock (the ``bedrock-mantle`` endpoint), signed
with SigV4 from the Lambda's own credentials: boto3 has no client for it, and the handlers bundle
nothing beyond boto3.

What the user guide documents (pages read 2026-12-07, see ``docs/open-weight-rft.md``):

- the endpoint ``https://bedrock-mantle.<region>.api.aws/v1`` ("Access and security for
  open-weight models"; "Create and manage fine-tuning jobs for open-weight models using OpenAI
  APIs"), and that HTTP requests may authenticate with AWS credentials as well as with a Bedrock
  API key (the same "Access and security" page);
- the Files API with purpose ``fine-tune`` and ``POST /v1/fine_tuning/jobs`` with
  ``method.type`` ``reinforcement`` and a Lambda grader; for every other detail (routes, fields,
  job states, the error body) the guide refers to OpenAI's fine-tuning and files API reference,
  which this client follows;
- inference on the same endpoint: ``POST /v1/chat/completions``, with a Bedrock API key or AWS
  credentials, "for complete API details" OpenAI's Chat Completions reference ("Inference using the
  Chat Completions API", ``inference-chat-completions-mantle``, read 2026-12-08); the fine-tuned
  model is served there on demand "without additional deployment steps" (``fine-tuning-openai-apis``).
  OpenAI's reference (``ChatCompletionStreamOptions``, read 2026-12-08): with ``stream: true`` the
  answer is server-sent events, each ``data:`` line one chunk, ending with ``data: [DONE]``; with
  ``stream_options.include_usage`` one more chunk before ``[DONE]`` carries ``usage`` for the whole
  request (its ``choices`` empty), and "if the stream is interrupted, you may not receive" it.

What no page read says, and this client assumes: the SigV4 signing name. It is
:data:`SIGNING_NAME`, the service's IAM prefix in the Service Authorization Reference, as public
clients that sign Mantle requests use it. A wrong name fails every request with a signature error
(403), never with a wider grant.

:class:`MantleClient` has boto3-like methods (keyword arguments in, the decoded JSON answer out,
``ClientError`` with a code on failure), so ``Aws.call("bedrock-mantle", ...)`` gives it the
estate's one retry policy, deadline and readable errors, and the tests' fakes stand in for it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from botocore.httpsession import URLLib3Session

SERVICE = "bedrock-mantle"
DONE = "[DONE]"
"""The ``data:`` of the last server-sent event of a complete streamed answer (OpenAI's reference)."""
SIGNING_NAME = "bedrock-mantle"
"""Not stated by the user guide (see the module docstring); the IAM prefix of the service."""

# HTTP status -> the error code the estate's retry policy and messages know (errors.py): the
# OpenAI-style error body carries a message and sometimes a code of its own, never an AWS code.
_CODE_OF_STATUS = {
    400: "ValidationException",
    401: "AccessDeniedException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    409: "ConflictException",
    429: "ThrottlingException",
    500: "InternalServerException",
    502: "ServiceUnavailableException",
    503: "ServiceUnavailableException",
    504: "ServiceUnavailableException",
}


def endpoint(region: str) -> str:
    """The documented base URL of a Region's endpoint."""
    return f"https://bedrock-mantle.{region}.api.aws/v1"


class MantleClient:
    """One Region's fine-tuning and files API, for one invocation (see the module docstring)."""

    def __init__(
        self,
        region: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        credentials: Any = None,
        http: Any = None,
        before_send: Callable[[], None] | None = None,
        max_pool_connections: int = 10,
    ):
        self.region = region
        self.base_url = endpoint(region)
        self._credentials = credentials
        self._http = http or URLLib3Session(
            timeout=(connect_timeout, read_timeout), max_pool_connections=max_pool_connections
        )
        self._before_send = before_send
        """Called just before each signed request is handed to the connection (``bench`` times from there)."""

    # -- files ----------------------------------------------------------------------------------
    def create_file(self, *, filename: str, content: bytes, purpose: str = "fine-tune") -> dict[str, Any]:
        """``POST /files`` (multipart: ``purpose`` and the ``file``)."""
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'.encode(),
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'.encode(),
                b"Content-Type: application/jsonl\r\n\r\n",
                content,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        return self._send("CreateFile", "POST", "/files", body, f"multipart/form-data; boundary={boundary}")

    def list_files(self, *, purpose: str | None = None, after: str | None = None) -> dict[str, Any]:
        """``GET /files``: one page (``data``, ``has_more``), newest first unless ordered otherwise."""
        return self._send("ListFiles", "GET", "/files", query={"purpose": purpose, "after": after})

    def delete_file(self, *, file_id: str) -> dict[str, Any]:
        return self._send("DeleteFile", "DELETE", f"/files/{quote(file_id, safe='')}")

    # -- fine-tuning jobs -----------------------------------------------------------------------
    def create_fine_tuning_job(self, **request: Any) -> dict[str, Any]:
        """``POST /fine_tuning/jobs`` with the request as its JSON body."""
        return self._send("CreateFineTuningJob", "POST", "/fine_tuning/jobs", json.dumps(request).encode())

    def get_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        return self._send("GetFineTuningJob", "GET", f"/fine_tuning/jobs/{quote(fine_tuning_job_id, safe='')}")

    def list_fine_tuning_jobs(self, *, after: str | None = None) -> dict[str, Any]:
        """``GET /fine_tuning/jobs``: one page (``data``, ``has_more``)."""
        return self._send("ListFineTuningJobs", "GET", "/fine_tuning/jobs", query={"after": after})

    def cancel_fine_tuning_job(self, *, fine_tuning_job_id: str) -> dict[str, Any]:
        path = f"/fine_tuning/jobs/{quote(fine_tuning_job_id, safe='')}/cancel"
        return self._send("CancelFineTuningJob", "POST", path, b"")

    # -- inference ------------------------------------------------------------------------------
    def create_chat_completion(self, **request: Any) -> Iterator[dict[str, Any] | str]:
        """``POST /chat/completions`` with ``stream: true``: the answer's chunks as they arrive (each
        ``data:`` line's JSON object), then :data:`DONE` if the service sent it. A stream cut short
        simply ends, without :data:`DONE`; an HTTP error raises ``ClientError`` before any chunk."""
        body = json.dumps({**request, "stream": True}).encode()
        response = self._send_request("POST", "/chat/completions", body, "application/json", stream=True)
        if not 200 <= response.status_code < 300:
            _answer("CreateChatCompletion", response.status_code, response.content)
        return _server_sent_events(response.raw)

    # -- the wire -------------------------------------------------------------------------------
    def _send(
        self,
        operation: str,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        response = self._send_request(method, path, body, content_type, query)
        return _answer(operation, response.status_code, response.content)

    def _send_request(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str,
        query: Mapping[str, str | None] | None = None,
        stream: bool = False,
    ) -> Any:
        """The signed request sent; the HTTP response (``stream``: its body not yet read, in ``raw``)."""
        url = self.base_url + path
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if params:
            url += "?" + urlencode(params)
        headers = {"Content-Type": content_type} if body is not None else {}
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers, stream_output=stream)
        SigV4Auth(self._resolved_credentials(), SIGNING_NAME, self.region).add_auth(request)
        prepared = request.prepare()
        if self._before_send is not None:
            self._before_send()
        try:
            return self._http.send(prepared)
        except HTTPClientError as err:
            # A connection closed or a read timed out: the estate's retry loop treats it as a
            # connection fault (which may have been acted on), like botocore's own.
            raise ConnectionError(error=err) from None

    def _resolved_credentials(self) -> Any:
        if self._credentials is None:
            self._credentials = botocore.session.get_session().get_credentials()
        if self._credentials is None:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no AWS credentials to sign the request with"}},
                "Sign",
            )
        return self._credentials


def _server_sent_events(raw: Iterable[bytes]) -> Iterator[dict[str, Any] | str]:
    """Each ``data:`` of a server-sent event stream: its JSON object, or :data:`DONE`. Comments,
    other fields and data that is not a JSON object are skipped (they carry no text and no end)."""
    for line in raw:
        text = line.decode("utf-8", "replace").strip()
        if not text.startswith("data:"):
            continue
        data = text[len("data:") :].strip()
        if data == DONE:
            yield DONE
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            continue
        if isinstance(chunk, dict):
            yield chunk


def _answer(operation: str, status: int, content: bytes) -> dict[str, Any]:
    """The decoded JSON answer, or a ``ClientError`` carrying the service's own message."""
    try:
        decoded = json.loads(content or b"{}")
    except ValueError:
        decoded = {"error": {"message": content[:300].decode("utf-8", "replace")}}
    if 200 <= status < 300:
        return decoded if isinstance(decoded, dict) else {"data": decoded}
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if not isinstance(error, dict):
        error = {"message": str(decoded)[:300]}
    code = _CODE_OF_STATUS.get(status, "InternalServerException" if status >= 500 else "ValidationException")
    message = str(error.get("message") or f"HTTP {status}")
    if error.get("code"):
        message += f" ({error['code']})"
    raise ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )
