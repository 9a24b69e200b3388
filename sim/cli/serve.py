"""``chaosdrill serve``: game days in the browser, for a team and a facilitator."""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import socket
import warnings
from pathlib import Path
from typing import Any

from sim.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, err, out

LOOPBACK = "127.0.0.1"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="run game days in the browser: a team in roles, a facilitator (localhost)",
        description=(
            "Start the game-day web app. Open the printed URL (it carries the server's key) "
            "to create a game day: pick an incident or a random one, the roles and what each "
            "may do; you get a control room for yourself and a join link per role. The team "
            "sees the page, alerts, live dashboards, logs, changes and an incident channel, "
            "and acts through the same action API as `chaosdrill drill`; you run the clock, "
            "inject faults and send hints privately, and end it: scorecards per role and for "
            "the team, the post-mortem, and a session.json that `chaosdrill replay` "
            "reproduces byte for byte. Game days are kept in DIR/gamedays.sqlite; a restarted "
            "server resumes the running ones."
        ),
        epilog=(
            "By default the server listens on 127.0.0.1 only. To let a team on other machines join, "
            "bind to an address they reach (--host 0.0.0.0) on a network you trust, or put "
            "it behind a reverse proxy that adds TLS: the links carry their tokens, and "
            "anyone holding a link can act in that role."
        ),
    )
    p.add_argument(
        "--host",
        default=LOOPBACK,
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--dir",
        type=Path,
        default=Path("out/gamedays"),
        metavar="DIR",
        help="where game days are kept: the database and each one's files (default: out/gamedays)",
    )
    p.add_argument(
        "--key",
        default=None,
        help="the key that opens the front page (default: one made on first start, kept in DIR)",
    )
    p.set_defaults(func=main)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        err.print(f"serve: --port {args.port}: expected 1–65535")
        return EXIT_USAGE
    if args.key is not None and len(args.key) < 12:
        err.print("serve: --key: use at least 12 characters (it guards the front page)")
        return EXIT_USAGE
    try:
        args.dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err.print(f"serve: --dir {args.dir}: cannot create it ({exc.strerror or exc})")
        return EXIT_INVALID
    try:  # a clear message instead of uvicorn's traceback when the port is taken
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        err.print(
            f"serve: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
            "pick another --port",
            soft_wrap=True,
        )
        return EXIT_INVALID

    import uvicorn

    from sim.web.app import create_app
    from sim.web.store import Store

    store = Store(args.dir)
    key = args.key or store.setting("key", secrets.token_urlsafe(16))
    store.close()
    app = create_app(args.dir, key)
    shown = "localhost" if _loopback(args.host) else args.host
    out.print(f"chaosdrill serve: game days in {args.dir}/gamedays.sqlite", soft_wrap=True)
    out.print(f"Open http://{shown}:{args.port}/?key={key}", soft_wrap=True, markup=False)
    if not _loopback(args.host):
        out.print(
            "warning: listening beyond this machine — anyone who can reach it and holds a "
            "link acts in that link's role; use a trusted network or a TLS proxy",
            style="yellow",
            soft_wrap=True,
        )
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    )
    # Ctrl-C between the URL and the first request served ends like any command's: no
    # "coroutine never awaited" warning, exit 130 (uvicorn.run says 3, a failed start).
    warnings.filterwarnings("ignore", "coroutine 'Server.serve' was never awaited")
    try:
        server.run()
    except KeyboardInterrupt:
        if not server.started:
            raise  # "interrupted", 130
    if not server.started:  # uvicorn said why above
        err.print(f"serve: the server did not start on {args.host}:{args.port}", soft_wrap=True)
        return EXIT_INVALID
    return EXIT_OK  # stopped with Ctrl-C once it served
