"""``python -m sandbox``: start the website, Keycloak stand-in, backend and S3, then wait for a signal."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from sandbox.people import MAX_EXTRA_USERS, add_extra_users
from sandbox.settings import DEFAULT_PROCESSING_DELAY_SECONDS

HOST_DEFAULT = "127.0.0.1"


def env_default(name: str, default: Any) -> Any:
    return os.environ.get(f"SANDBOX_{name.upper().replace('-', '_')}", default)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A local stand-in for a Loculus instance. Every option can also be set as SANDBOX_<NAME>.",
    )
    parser.add_argument("--host", default=env_default("host", HOST_DEFAULT))
    for name, port in (("website", 8090), ("backend", 8091), ("keycloak", 8092), ("s3", 8093)):
        parser.add_argument(
            f"--{name}-port", type=int, default=int(env_default(f"{name}_port", port)), help="0 = pick a free port"
        )
    parser.add_argument("--s3-proxy-port", type=int, default=int(env_default("s3_proxy_port", 0)))
    parser.add_argument("--portal-origin", default=env_default("portal_origin", "http://127.0.0.1:8000"))
    parser.add_argument("--generation", choices=["current", "legacy"], default=env_default("generation", "current"))
    parser.add_argument("--token-lifetime", type=int, default=int(env_default("token_lifetime", 36000)))
    parser.add_argument(
        "--processing-delay",
        type=float,
        default=float(env_default("processing_delay", DEFAULT_PROCESSING_DELAY_SECONDS)),
        help="seconds from submit (or edit) to PROCESSED; 0 = at once",
    )
    parser.add_argument(
        "--organisms",
        choices=["helm", "test"],
        default=env_default("organisms", "helm"),
        help="helm: generated from Loculus's Helm values (the demo); test: the hand-written ones the tests use",
    )
    parser.add_argument("--s3", choices=["moto", "ministack"], default=env_default("s3", "moto"))
    parser.add_argument(
        "--s3-proxy",
        action=argparse.BooleanOptionalAction,
        default=str(env_default("s3_proxy", "")).lower() in ("1", "true", "yes"),
        help="put a fault-injecting proxy in front of S3; presigned URLs then point at it",
    )
    parser.add_argument(
        "--extra-users",
        type=int,
        default=int(env_default("extra_users", 0)),
        help="this many more users, loaduser001 … (password = user name), in no group: for load benchmarks",
    )
    parser.add_argument("--state-dir", default=env_default("state_dir", None))
    parser.add_argument("--ready-file", default=env_default("ready_file", None))
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the sandbox binds to loopback only (127.0.0.1)")
    if not 0 <= args.extra_users <= MAX_EXTRA_USERS:
        parser.error(f"--extra-users must be between 0 and {MAX_EXTRA_USERS}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    created_state_dir = args.state_dir is None
    state_dir = Path(args.state_dir or tempfile.mkdtemp(prefix="loculus-sandbox-"))
    state_dir.mkdir(parents=True, exist_ok=True)

    logging.basicConfig(
        filename=state_dir / "sandbox.log",
        level=logging.INFO,
        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s",
    )

    add_extra_users(args.extra_users)
    if args.organisms == "helm":
        from sandbox.helm_organisms import helm_organisms
        from sandbox.organisms import use_organisms

        use_organisms(helm_organisms())

    # Imported here so MOTO_DISABLE_GLOBAL_CORS is set (in sandbox.s3) before moto loads.
    from sandbox.backend import TokenVerifier, create_backend_app, with_faults
    from sandbox.faults import FaultInjector
    from sandbox.oidc import OIDC_PATH, Provider, create_oidc_app
    from sandbox.s3 import MinistackS3, MotoS3, S3Server, S3Storage, configure_bucket, s3_client
    from sandbox.servers import ServerThread
    from sandbox.settings import RuntimeSettings
    from sandbox.state import Store
    from sandbox.website import create_website_app

    settings = RuntimeSettings(
        portal_origin=args.portal_origin.rstrip("/"),
        generation=args.generation,
        token_lifetime=args.token_lifetime,
        processing_delay_seconds=max(0.0, args.processing_delay),
    )
    running: list[Any] = []

    def stop_all() -> None:
        for server in reversed(running):
            try:
                server.stop()
            except Exception:
                logging.exception("stopping %s failed", server)

    try:
        s3_server: S3Server
        if args.s3 == "ministack":
            s3_server = MinistackS3(args.host, args.s3_port, state_dir / "ministack.log")
        else:
            s3_server = MotoS3(args.host, args.s3_port)
        running.append(s3_server)
        settings.s3_direct_url = s3_server.url
        settings.s3_url = s3_server.url
        direct = s3_client(s3_server.url)
        configure_bucket(direct, settings.portal_origin)

        s3_faults: FaultInjector | None = None
        if args.s3_proxy:
            from sandbox.s3_proxy import S3Proxy

            s3_faults = FaultInjector()
            proxy = S3Proxy(args.host, args.s3_proxy_port, s3_server.url, s3_faults)
            running.append(proxy.start())
            settings.s3_url = proxy.url

        provider = Provider(settings)
        oidc_server = ServerThread(create_oidc_app(provider), args.host, args.keycloak_port, "keycloak")
        settings.keycloak_url = oidc_server.url

        store = Store(state_dir)
        faults = FaultInjector()
        storage = S3Storage(direct, s3_client(settings.s3_url))
        verifier = TokenVerifier(f"{settings.keycloak_url}{OIDC_PATH}/certs")
        backend_app = create_backend_app(settings, store, storage, verifier, faults, s3_faults)
        backend_app.wsgi_app = with_faults(backend_app, faults)  # type: ignore[method-assign]
        backend_server = ServerThread(backend_app, args.host, args.backend_port, "backend")
        settings.backend_url = backend_server.url

        website_server = ServerThread(create_website_app(settings, store), args.host, args.website_port, "website")
        settings.website_url = website_server.url

        for server in (oidc_server, backend_server, website_server):
            running.append(server.start())
    except Exception as error:
        logging.exception("start failed")
        print(f"sandbox: start failed: {error}", file=sys.stderr, flush=True)
        stop_all()
        return 1

    ready = {
        "website": settings.website_url,
        "backend": settings.backend_url,
        "keycloak": settings.keycloak_url,
        "s3": settings.s3_url,
        "issuer": settings.issuer,
        "portal_origin": settings.portal_origin,
        "s3_direct": settings.s3_direct_url,
        "state_dir": str(state_dir),
        "generation": settings.generation,
        "organisms": args.organisms,
    }
    if args.ready_file:
        ready_path = Path(args.ready_file)
        temporary = ready_path.with_suffix(ready_path.suffix + ".tmp")
        temporary.write_text(json.dumps(ready), encoding="utf-8")
        temporary.replace(ready_path)  # atomic: a reader never sees half a file
    print(f"SANDBOX READY {json.dumps(ready)}", flush=True)

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        logging.info("signal %s: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(1):
        pass
    stop_all()
    if created_state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
