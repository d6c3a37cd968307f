"""wildfire-cs: one entry point for every part.

    python run.py             the demo: every part on embedded defaults (same as run.py demo)
    python run.py demo        the same, with its options
    python run.py serve       the CS server alone, for a real WildfireChat deployment
    python run.py appserver   the App Server (holds the IM admin secret)
    python run.py imsim       the IM simulator

Every flag of serve, appserver and imsim has an environment variable (shown in
each one's --help); secrets are best given that way, since command lines are
visible to other local users. A start-up problem is one line and exit status 2
(a traceback too with --log-level debug).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

from transport.cli import COMMANDS, EXIT_STARTUP, build_parser  # noqa: E402

log = logging.getLogger("wildfire-cs")

HERE = Path(__file__).resolve().parent


def load_cs_config(args):
    from actors.config import CsConfig, load_config
    from actors.messages import Servicer

    config = load_config(args.config) if args.config else CsConfig()
    extra = [s for s in (args.servicers or "").split(",") if s.strip()]
    known = {s.id for s in config.servicers}
    added = tuple(Servicer(s.strip(), s.strip()) for s in extra if s.strip() not in known)
    return replace(config, servicers=config.servicers + added)


def stop_requested():
    """An event set by SIGINT or SIGTERM. Installed before anything starts: a
    signal that came between printing "on <url>" and a later install killed
    the process with its children still running."""
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    return stop


# Every open session is a few dozen long-lived objects, so while customers
# arrive CPython's full collections come again and again, each walking every
# session: 10,000 arriving customers met ten full collections of 17-400 ms
# (p99 528 ms). Collecting young objects every 50,000 net allocations
# instead of every 700 left one: p99 4-6 ms (docs/performance.md; young
# collections take 5-10 ms).
GC_THRESHOLDS = (50_000, 20, 20)


def settle_gc():
    """The collector as a long-running server wants it (``serve`` and the load
    test's bare ``ceiling`` alike). Call it after the imports, before any
    session exists: the objects there are now live as long as the process and
    are frozen out of every later full collection, which took ~20 ms and,
    falling inside the load test's half-load window, was its p99 (frozen
    objects in reference cycles would never be freed)."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    gc.collect()
    gc.freeze()


def serve_settings(args):
    """The CS server's settings, every file they name read and checked: nothing
    is started yet, so a mistake here leaves nothing behind."""
    from actors.autoreply.knowledge import load_knowledge
    from transport.csserver import CsSettings
    from transport.edge.auth import Tokens
    from transport.startup import StartupError

    config = load_cs_config(args)
    settings = CsSettings(
        im_url=args.im_url, robot_id=args.robot_id, robot_secret=args.robot_secret or "",
        callback_token=args.callback_token or "",
        redis_url=args.redis_url or "redis://embedded",  # replaced once it runs
        public_url=args.public_url, host=args.host, port=args.port,
        appserver_url=args.appserver_url, appserver_key=args.appserver_key or "",
        im_admin_url=args.im_admin_url, admin_secret=args.admin_secret or "",
        redis_prefix=args.redis_prefix, api_token=args.api_token or "",
        api_tokens_file=args.api_tokens_file, open_api=args.open_api,
        callback_sources=tuple(n.strip() for n in args.callback_allow.split(",") if n.strip()),
        max_body_bytes=args.max_body_bytes, knowledge_path=args.knowledge,
        demo_sim_url=args.demo_sim_url, demo_tokens_file=args.demo_tokens_file,
        rate_limit=(args.rate_limit, 10.0) if args.rate_limit > 0 else None,
        config=config)
    try:
        settings.validate()
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    if args.knowledge:
        load_knowledge(args.knowledge, config.human_words)
    if args.api_tokens_file:
        Tokens.load(args.api_tokens_file)
    return settings


def cmd_serve(args):
    from storage import EmbeddedRedis
    from storage.admin import check_reachable
    from transport.csserver import CsServer
    from transport.startup import StartupError, check_port

    stop = stop_requested()
    settings = serve_settings(args)
    check_port(args.port, args.host, hint="is another server running? use --port")
    if args.redis_url:
        check_reachable(args.redis_url)
    embedded = None
    if not args.redis_url:
        embedded = EmbeddedRedis(Path(args.data_dir) / "redis").start()
        settings = replace(settings, redis_url=embedded.url)
    try:
        settle_gc()
        try:
            server = CsServer(settings)
        except ValueError as exc:  # what only a running Redis or the listener can tell
            raise StartupError(str(exc)) from None
        print(f"CS server on {server.url}; robot callback "
              f"{settings.public_url or server.url}/im/robot/<token>", flush=True)

        def reload_knowledge():
            try:
                server.reload_knowledge()
            except ValueError as exc:
                log.error("knowledge base not reloaded: %s", exc)

        gevent.signal_handler(signal.SIGHUP, reload_knowledge)
        stop.wait()
        server.stop()
    finally:
        if embedded:
            embedded.stop()


def cmd_appserver(args):
    from transport.appserver.server import make_appserver_app
    from transport.http.server import start_server
    from transport.startup import StartupError, check_port
    from transport.wildfire.api import AdminApi

    if not args.admin_secret or not args.key:
        raise StartupError("--admin-secret and --key are required (or their environment "
                           "variables)")
    stop = stop_requested()
    check_port(args.port, args.host, hint="is another App Server running? use --port")
    nonces = None
    if args.redis_url:
        from storage import Store, connect
        from storage.admin import check_reachable
        from transport.appserver.signing import RedisNonces

        check_reachable(args.redis_url)
        nonces = RedisNonces(Store(connect(args.redis_url), prefix=args.redis_prefix))
    app = make_appserver_app(admin=AdminApi(args.im_admin_url, args.admin_secret),
                             key=args.key, robot_id=args.robot_id,
                             shadow_id_pattern=args.shadow_id_pattern, nonces=nonces)
    server = start_server(app, args.host, args.port)
    print(f"App Server on {server.url}", flush=True)
    stop.wait()
    server.stop()


def cmd_imsim(args):
    from transport.http.server import start_server
    from transport.sim.imsim import ImSimulator, make_imsim_app
    from transport.startup import StartupError, check_port

    if not args.admin_secret:
        raise StartupError("--admin-secret is required (or CS_ADMIN_SECRET)")
    stop = stop_requested()
    check_port(args.port, args.host, hint="is another simulator running? use --port")
    server = start_server(make_imsim_app(ImSimulator(args.admin_secret, args.rate_limit)),
                          args.host, args.port)
    print(f"IM simulator on {server.url}", flush=True)
    stop.wait()
    server.stop()


def cmd_demo(args):
    from transport.demo import run_demo

    run_demo(config_path=args.config, knowledge_path=args.knowledge,
             data_dir=Path(args.data_dir), base_port=args.base_port, keep_data=args.keep_data,
             run_py=HERE / "run.py", wait=stop_requested().wait)


def cmd_ceiling(args):
    from transport.http.server import start_server
    from transport.sim.ceiling import make_bare_app
    from transport.startup import check_port

    stop = stop_requested()
    check_port(args.port, hint="use --port")
    settle_gc()  # the same server as ``serve``, settings included
    server = start_server(make_bare_app(), "127.0.0.1", args.port)
    print(f"bare handler on {server.url}", flush=True)
    stop.wait()
    server.stop()


def cmd_loadtest(args):
    from transport.sim.loadgen import LoadOptions, LoadTest

    fields = LoadOptions.__dataclass_fields__
    options = LoadOptions(**{k: v for k, v in vars(args).items() if k in fields})
    result = LoadTest(options).run()
    print(json.dumps({k: v for k, v in result.items() if k != "options"}, indent=2))
    print(f"written to {options.output}")
    sys.exit(1 if any(result["losses"].values()) else 0)


def cmd_new_token(args):
    from transport.edge.auth import new_token, token_hash
    from transport.startup import StartupError

    if args.role == "servicer" and not args.servicer:
        raise StartupError("--servicer is required for the servicer role")
    token = new_token()
    entry = {"sha256": token_hash(token), "role": args.role}
    if args.role == "servicer":
        entry["servicer"] = args.servicer
    print(f"token (give it to its holder; it is not stored): {token}")
    print(f"tokens-file entry: {json.dumps(entry)}")


HANDLERS = {"demo": cmd_demo, "serve": cmd_serve, "appserver": cmd_appserver,
            "imsim": cmd_imsim, "new-token": cmd_new_token, "loadtest": cmd_loadtest,
            "ceiling": cmd_ceiling}


def startup_errors():
    """What a person can fix: said in one line, exit status 2."""
    from actors.config import ConfigError
    from storage.admin import RedisUnreachable
    from storage.embedded import EmbeddedRedisError
    from transport.edge.auth import TokenError
    from transport.startup import StartupError

    return (StartupError, ConfigError, TokenError, RedisUnreachable, EmbeddedRedisError,
            argparse.ArgumentTypeError)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS or a in ("-h", "--help") for a in argv):
        argv = ["demo", *argv]  # no command: the demo, with any flags given
    debug = os.environ.get("CS_LOG_LEVEL", "").lower() == "debug"
    errors = startup_errors()
    command = next(a for a in argv if a in COMMANDS or a in ("-h", "--help"))
    try:
        args = build_parser(__doc__, HERE).parse_args(argv)
        debug = args.log_level == "debug"
        logging.basicConfig(level=args.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        HANDLERS[args.command](args)
    except errors as exc:
        if debug:
            traceback.print_exc()
        print(f"run.py {command}: {exc}", file=sys.stderr, flush=True)
        sys.exit(EXIT_STARTUP)
    except KeyboardInterrupt:  # Ctrl-C during start-up: what started is stopped above
        sys.exit(130)


if __name__ == "__main__":
    main()
