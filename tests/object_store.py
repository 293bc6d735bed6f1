"""An S3-compatible object store for tests and benches: moto in server mode, a subprocess on its own
port, as localstripe stands in for Stripe; the plugin talks to it through django-storages and boto3,
over HTTP, as to S3."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import requests

BUCKET = "atelier-nord-media"
PUBLIC_IMAGES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/images/*",
        }
    ],
}
KEYS = {"access_key": "test", "secret_key": "test", "region_name": "eu-west-3"}


class ObjectStore:
    """moto's S3 server in a subprocess with its own port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("moto_server")),
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(self.url, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the S3-compatible server did not start") from None
                time.sleep(0.1)
        self.client = boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name=KEYS["region_name"],
        )
        self.client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": KEYS["region_name"]}
        )
        # As a store sets its bucket up (README): product images public, everything else (the
        # feeds: served through their tokened URLs) private.
        self.client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_IMAGES))

    def names(self, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=name)["Body"].read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    close = stop

    def environment(self) -> dict[str, str]:
        """The reference store's settings for this bucket (shop/settings.py: S3_BUCKET)."""
        return {
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": KEYS["region_name"],
            "AWS_ACCESS_KEY_ID": KEYS["access_key"],
            "AWS_SECRET_ACCESS_KEY": KEYS["secret_key"],
        }
