"""`serve-sample`: the bundled Comext sample over HTTP, in Eurostat's URL layout, for runs without network."""

import contextlib
from typing import Annotated

import typer

from orchestration.cli.common import CliError, integer, say
from orchestration.lib.config import SAMPLE_DATA_DIR


def serve_sample(port: int) -> int:
    from orchestration.demo.eurostat import EurostatFileServer

    try:
        server = EurostatFileServer(SAMPLE_DATA_DIR / "comext", port=port)  # binds the port
    except OSError as exc:
        raise CliError(
            f"cannot serve the Comext sample on 127.0.0.1:{port}: {exc.strerror}; choose another --port "
            "(0 picks a free one)"
        ) from None
    with server:
        say("serve-sample", f"serving the Comext sample at {server.base_url} (Ctrl-C to stop)")
        print(f"  export MIRROR_TRADE_COMEXT_URL={server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()
    return 0


def register(app: typer.Typer) -> None:
    @app.command(
        "serve-sample",
        help="Serve the bundled Comext sample over HTTP in Eurostat's URL layout, for MIRROR_TRADE_COMEXT_URL.",
        epilog="example:  mirror-trade serve-sample --port 8765",
    )
    def serve_sample_command(
        port: Annotated[int, typer.Option(**integer(0, 65535), help="Port on 127.0.0.1; 0 picks a free one.")] = 8765,
    ) -> int:
        return serve_sample(port)
