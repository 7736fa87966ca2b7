"""The sandbox's S3: moto in-process (default) or ministack with signature checks (strict).

The backend talks to S3 directly (like Loculus' ``internalEndpoint``) and presigns
URLs for the public endpoint, which is the S3 proxy when one runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# flask-cors in moto would otherwise answer every preflight with "allow all", hiding CORS
# mistakes that a real bucket catches. It must be set before moto is imported.
os.environ.setdefault("MOTO_DISABLE_GLOBAL_CORS", "1")

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

BUCKET = "loculus-sandbox-private"
MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"
MINISTACK_VERSION = "1.5.33"
REPO_ROOT = Path(__file__).resolve().parent.parent
MINISTACK_VENV = REPO_ROOT / ".venv-s3"


def s3_client(endpoint: str) -> BaseClient:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        # Path-style, as Loculus' S3 presigner is configured; bounded retries and timeouts.
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        ),
    )


def configure_bucket(client: BaseClient, portal_origin: str) -> None:
    try:
        client.create_bucket(Bucket=BUCKET)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    client.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [portal_origin],
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    # The browser must read each part's ETag to complete a multipart upload.
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )


class S3Server:
    """A running S3 server; ``url`` is its base URL."""

    url: str

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class MotoS3(S3Server):
    def __init__(self, host: str, port: int) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_port = self._server._server.port  # type: ignore[union-attr]  # actual port when 0 was asked for
        self.url = f"http://{host}:{bound_port}"

    def stop(self) -> None:
        self._server.stop()


def ensure_ministack(python: str = sys.executable, timeout: float = 600) -> Path:
    """Create ``.venv-s3`` with ministack pinned, if missing; return the ministack executable.

    ministack pins a botocore that conflicts with ours, hence its own virtualenv.
    """
    executable = MINISTACK_VENV / "bin" / "ministack"
    if executable.exists():
        return executable
    if MINISTACK_VENV.exists():
        shutil.rmtree(MINISTACK_VENV)
    subprocess.run(["python3", "-m", "venv", str(MINISTACK_VENV)], check=True, timeout=timeout)
    subprocess.run(
        [str(MINISTACK_VENV / "bin" / "pip"), "install", "--quiet", f"ministack=={MINISTACK_VERSION}"],
        check=True,
        timeout=timeout,
    )
    if not executable.exists():
        raise RuntimeError(f"ministack was installed but {executable} is missing")
    return executable


class MinistackS3(S3Server):
    """ministack with AUTH=true: it checks SigV4 signatures, signed headers and expiry."""

    def __init__(self, host: str, port: int, log_path: Path) -> None:
        executable = ensure_ministack()
        if port == 0:
            port = free_port(host)
        env = dict(os.environ)
        env.update(
            {
                "AUTH": "true",
                "BIND_HOST": host,
                "GATEWAY_PORT": str(port),
                "MINISTACK_HOST": host,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            }
        )
        env.pop("MOTO_DISABLE_GLOBAL_CORS", None)
        self._log = open(log_path, "ab")
        self._process = subprocess.Popen(
            [str(executable)], env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.url = f"http://{host}:{port}"
        deadline = time.monotonic() + 30
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"ministack exited with {self._process.returncode}; see {log_path}")
            try:
                urllib.request.urlopen(f"{self.url}/_ministack/health", timeout=1)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # any HTTP answer means it listens
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"ministack did not listen on {self.url} within 30 s; see {log_path}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._log.close()


def free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Storage:
    """What the backend does with S3: presign, start and complete multipart uploads, HEAD."""

    client: BaseClient  # direct, for the backend's own calls
    presigner: BaseClient  # endpoint = the URL clients are given

    def key(self, file_id: str) -> str:
        return f"files/{file_id}"

    def presign_put(self, file_id: str, expires: int) -> str:
        # IfNoneMatch becomes a signed header: a PUT without "If-None-Match: *" breaks the signature.
        return self.presigner.generate_presigned_url(
            "put_object",
            Params={"Bucket": BUCKET, "Key": self.key(file_id), "IfNoneMatch": "*"},
            ExpiresIn=expires,
        )

    def start_multipart(self, file_id: str, parts: int, expires: int) -> tuple[str, list[str]]:
        upload_id = self.client.create_multipart_upload(Bucket=BUCKET, Key=self.key(file_id))["UploadId"]
        urls = [
            self.presigner.generate_presigned_url(
                "upload_part",
                Params={"Bucket": BUCKET, "Key": self.key(file_id), "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=expires,
            )
            for number in range(1, parts + 1)
        ]
        return upload_id, urls

    def complete_multipart(self, file_id: str, upload_id: str, etags: list[str]) -> None:
        self._check_part_sizes(file_id, upload_id, len(etags))
        self.client.complete_multipart_upload(
            Bucket=BUCKET,
            Key=self.key(file_id),
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]},
        )

    def _check_part_sizes(self, file_id: str, upload_id: str, count: int) -> None:
        """S3 refuses parts under 5 MiB (except the last) at completion; ministack does not, so we do."""
        listed = self.client.list_parts(Bucket=BUCKET, Key=self.key(file_id), UploadId=upload_id, MaxParts=10000)
        sizes = {part["PartNumber"]: part["Size"] for part in listed.get("Parts", [])}
        if any(sizes.get(number, MIN_PART_SIZE) < MIN_PART_SIZE for number in range(1, count)):
            raise ClientError(
                {"Error": {"Code": "EntityTooSmall", "Message": "Your proposed upload is smaller than the minimum."}},
                "CompleteMultipartUpload",
            )

    def make_public(self, file_id: str) -> None:
        """What approval does to a released entry's files (contract §5.4): the tag ``public=true``."""
        self.client.put_object_tagging(
            Bucket=BUCKET, Key=self.key(file_id), Tagging={"TagSet": [{"Key": "public", "Value": "true"}]}
        )

    def is_public(self, file_id: str) -> bool:
        tags = self.client.get_object_tagging(Bucket=BUCKET, Key=self.key(file_id))["TagSet"]
        return {"Key": "public", "Value": "true"} in tags

    def size(self, file_id: str) -> int | None:
        try:
            response: dict[str, Any] = self.client.head_object(Bucket=BUCKET, Key=self.key(file_id))
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        return int(response["ContentLength"])

    def presign_get(self, file_id: str, expires: int, filename: str | None = None) -> str:
        params: dict[str, Any] = {"Bucket": BUCKET, "Key": self.key(file_id)}
        if filename is not None:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self.presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
