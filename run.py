"""wildfire-cs: one entry point for every part.

    python run.py demo        everything on embedded defaults (the default command)
    python run.py serve       the CS server alone, for a real WildfireChat deployment
    python run.py appserver   the App Server (holds the IM admin secret)
    python run.py imsim       the IM simulator

Every flag has an environment variable (shown in --help); secrets are best
given that way, since command lines are visible to other local users.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

log = logging.getLogger("wildfire-cs")

HERE = Path(__file__).resolve().parent
DEMO_CONFIG = HERE / "config" / "demo.json"
DEMO_KNOWLEDGE = HERE / "config" / "knowledge.yaml"


def env_arg(parser, flag, env, help, default=None, type=str, secret=False):
    """A flag whose default comes from an environment variable.

    A secret may also come from a file named by ``<ENV>_FILE`` (Docker and
    Kubernetes secrets are files), so it never has to be on a command line.
    """
    value = os.environ.get(env, default)
    if secret and os.environ.get(env + "_FILE"):
        value = Path(os.environ[env + "_FILE"]).read_text(encoding="utf-8").strip()
    shown = "(set)" if secret and value else value
    where = f"env {env} or {env}_FILE" if secret else f"env {env}"
    parser.add_argument(flag, default=type(value) if value is not None else None, type=type,
                        help=f"{help} [{where}; default {shown}]")


def add_serve_args(p):
    env_arg(p, "--host", "CS_HOST", "address to listen on", "127.0.0.1")
    env_arg(p, "--port", "CS_PORT", "port to listen on", "8870", type=int)
    env_arg(p, "--im-url", "CS_IM_URL", "IM server robot API base URL", "http://127.0.0.1:8880")
    env_arg(p, "--im-admin-url", "CS_IM_ADMIN_URL", "IM admin API base URL (trusted mode)", "")
    env_arg(p, "--robot-id", "CS_ROBOT_ID", "user id of the CS Robot", "cs_robot")
    env_arg(p, "--robot-secret", "CS_ROBOT_SECRET", "the CS Robot's secret", secret=True)
    env_arg(p, "--callback-token", "CS_CALLBACK_TOKEN",
            "secret token in our callback URLs (16+ chars)", secret=True)
    env_arg(p, "--public-url", "CS_PUBLIC_URL",
            "base URL at which the IM server reaches our callbacks", "")
    env_arg(p, "--redis-url", "REDIS_URL", "Redis URL; empty starts the embedded Redis", "")
    env_arg(p, "--redis-prefix", "CS_REDIS_PREFIX", "prefix of every Redis key", "cs")
    env_arg(p, "--appserver-url", "CS_APPSERVER_URL", "App Server base URL", "")
    env_arg(p, "--appserver-key", "CS_APPSERVER_KEY", "key shared with the App Server",
            secret=True)
    env_arg(p, "--admin-secret", "CS_ADMIN_SECRET",
            "IM admin secret: trusted mode, we create Shadows ourselves", "", secret=True)
    env_arg(p, "--config", "CS_CONFIG", "JSON file: servicers, texts, FAQ, time-outs", "")
    env_arg(p, "--servicers", "CS_SERVICERS", "comma-separated servicer ids to add", "")
    env_arg(p, "--demo-sim-url", "CS_DEMO_SIM_URL",
            "demo mode: the IM simulator /demo talks through", "")
    env_arg(p, "--knowledge", "CS_KNOWLEDGE",
            "knowledge base (YAML or JSON); reloaded on SIGHUP", "")
    env_arg(p, "--api-token", "CS_API_TOKEN", "a supervisor bearer token for /api", "",
            secret=True)
    env_arg(p, "--api-tokens-file", "CS_API_TOKENS_FILE",
            "JSON file of hashed API tokens with roles (see new-token)", "")
    env_arg(p, "--callback-allow", "CS_CALLBACK_ALLOW",
            "comma-separated networks (CIDR) allowed to call back; empty: any", "")
    env_arg(p, "--max-body-bytes", "CS_MAX_BODY_BYTES", "largest request body accepted",
            str(256 * 1024), type=int)
    env_arg(p, "--rate-limit", "CS_RATE_LIMIT",
            "robot sends allowed per 10 s (the IM server's limit; 0 = none)", "1000", type=int)
    env_arg(p, "--data-dir", "CS_DATA_DIR", "where the embedded Redis keeps its data",
            str(HERE / "data"))


def load_cs_config(args):
    from actors.config import CsConfig, load_config
    from actors.messages import Servicer

    config = load_config(args.config) if args.config else CsConfig()
    extra = [s for s in (args.servicers or "").split(",") if s.strip()]
    known = {s.id for s in config.servicers}
    added = tuple(Servicer(s.strip(), s.strip()) for s in extra if s.strip() not in known)
    return replace(config, servicers=config.servicers + added)


def wait_for_stop():
    """Block until SIGINT or SIGTERM."""
    stop = gevent.event.Event()
    gevent.signal_handler(signal.SIGTERM, stop.set)
    gevent.signal_handler(signal.SIGINT, stop.set)
    stop.wait()


# Every open session is a few dozen long-lived objects, so while customers
# arrive CPython's full collections come again and again, each walking every
# session: 10,000 arriving customers met ten full collections of 17-400 ms
# (p99 528 ms). Collecting young objects every 50,000 net allocations
# instead of every 700 left one: p99 4-6 ms (README; young collections take
# 5-10 ms).
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


def cmd_serve(args):
    from storage import EmbeddedRedis
    from transport.csserver import CsServer, CsSettings

    embedded = None
    redis_url = args.redis_url
    if not redis_url:
        embedded = EmbeddedRedis(Path(args.data_dir) / "redis").start()
        redis_url = embedded.url
    settle_gc()
    settings = CsSettings(
        im_url=args.im_url, robot_id=args.robot_id, robot_secret=args.robot_secret or "",
        callback_token=args.callback_token or "", redis_url=redis_url,
        public_url=args.public_url, host=args.host, port=args.port,
        appserver_url=args.appserver_url, appserver_key=args.appserver_key or "",
        im_admin_url=args.im_admin_url, admin_secret=args.admin_secret or "",
        redis_prefix=args.redis_prefix, api_token=args.api_token or "",
        api_tokens_file=args.api_tokens_file,
        callback_sources=tuple(n.strip() for n in args.callback_allow.split(",") if n.strip()),
        max_body_bytes=args.max_body_bytes, knowledge_path=args.knowledge,
        demo_sim_url=args.demo_sim_url,
        rate_limit=(args.rate_limit, 10.0) if args.rate_limit > 0 else None,
        config=load_cs_config(args))
    try:
        server = CsServer(settings)
    except ValueError as exc:  # settings, tokens file, networks
        sys.exit(f"serve: {exc}")
    print(f"CS server on {server.url}; robot callback {settings.public_url or server.url}"
          f"/im/robot/<token>", flush=True)

    def reload_knowledge():
        try:
            server.reload_knowledge()
        except ValueError as exc:
            log.error("knowledge base not reloaded: %s", exc)

    gevent.signal_handler(signal.SIGHUP, reload_knowledge)
    wait_for_stop()
    server.stop()
    if embedded:
        embedded.stop()


def cmd_appserver(args):
    from transport.appserver.server import make_appserver_app
    from transport.http.server import start_server
    from transport.wildfire.api import AdminApi

    if not args.admin_secret or not args.key:
        sys.exit("appserver: --admin-secret and --key are required")
    nonces = None
    if args.redis_url:
        from storage import Store, connect
        from transport.appserver.signing import RedisNonces

        nonces = RedisNonces(Store(connect(args.redis_url), prefix=args.redis_prefix))
    app = make_appserver_app(admin=AdminApi(args.im_admin_url, args.admin_secret),
                             key=args.key, robot_id=args.robot_id,
                             shadow_id_pattern=args.shadow_id_pattern, nonces=nonces)
    server = start_server(app, args.host, args.port)
    print(f"App Server on {server.url}", flush=True)
    wait_for_stop()
    server.stop()


def cmd_imsim(args):
    from transport.http.server import start_server
    from transport.sim.imsim import ImSimulator, make_imsim_app

    if not args.admin_secret:
        sys.exit("imsim: --admin-secret is required")
    server = start_server(make_imsim_app(ImSimulator(args.admin_secret, args.rate_limit)),
                          args.host, args.port)
    print(f"IM simulator on {server.url}", flush=True)
    wait_for_stop()
    server.stop()


def cmd_demo(args):
    from transport.demo import run_demo

    run_demo(config_path=args.config, data_dir=Path(args.data_dir), base_port=args.base_port,
             knowledge_path=DEMO_KNOWLEDGE, run_py=HERE / "run.py", wait=wait_for_stop)


def cmd_ceiling(args):
    from transport.http.server import start_server
    from transport.sim.ceiling import make_bare_app

    settle_gc()  # the same server as ``serve``, settings included
    server = start_server(make_bare_app(), "127.0.0.1", args.port)
    print(f"bare handler on {server.url}", flush=True)
    wait_for_stop()
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

    if args.role == "servicer" and not args.servicer:
        sys.exit("new-token: --servicer is required for the servicer role")
    token = new_token()
    entry = {"sha256": token_hash(token), "role": args.role}
    if args.role == "servicer":
        entry["servicer"] = args.servicer
    print(f"token (give it to its holder; it is not stored): {token}")
    print(f"tokens-file entry: {json.dumps(entry)}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--log-level", default=os.environ.get("CS_LOG_LEVEL", "INFO"))
    sub = parser.add_subparsers(dest="command")

    demo = sub.add_parser("demo", help="run every part on embedded defaults")
    demo.add_argument("--base-port", type=int, default=8870,
                      help="CS server port; simulator +10, App Server +20, Redis +9")
    demo.add_argument("--config", default=str(DEMO_CONFIG))
    demo.add_argument("--data-dir", default=str(HERE / "data"))

    add_serve_args(sub.add_parser("serve", help="run the CS server"))

    app = sub.add_parser("appserver", help="run the App Server")
    env_arg(app, "--host", "APPSERVER_HOST", "address to listen on", "127.0.0.1")
    env_arg(app, "--port", "APPSERVER_PORT", "port to listen on", "8890", type=int)
    env_arg(app, "--im-admin-url", "CS_IM_ADMIN_URL", "IM admin API base URL",
            "http://127.0.0.1:18080")
    env_arg(app, "--admin-secret", "CS_ADMIN_SECRET", "IM admin secret", secret=True)
    env_arg(app, "--key", "CS_APPSERVER_KEY", "key shared with the CS server", secret=True)
    env_arg(app, "--robot-id", "CS_ROBOT_ID", "user id of the CS Robot", "cs_robot")
    env_arg(app, "--shadow-id-pattern", "CS_SHADOW_ID_PATTERN", "Shadow id pattern",
            "{customer}*Shadow")
    env_arg(app, "--redis-url", "APPSERVER_REDIS_URL",
            "Redis for the replay cache (empty: in memory)", "")
    env_arg(app, "--redis-prefix", "CS_REDIS_PREFIX", "prefix of every Redis key", "cs")

    load = sub.add_parser("loadtest", help="simulated customers against a real CS server")
    load.add_argument("--customers", type=int, default=200)
    load.add_argument("--servicers", type=int, default=10)
    load.add_argument("--duration", type=float, default=30.0, help="seconds")
    load.add_argument("--rate", type=float, default=1.0,
                      help="messages per second per customer; 0: half the saturation")
    load.add_argument("--human-share", type=float, default=0.3,
                      help="share of customers who ask for a person")
    load.add_argument("--think", type=float, default=0.5, help="servicer think time (s)")
    load.add_argument("--questions", type=int, default=3, help="bot questions per customer")
    load.add_argument("--human-messages", type=int, default=3)
    load.add_argument("--seed", type=int, default=1)
    load.add_argument("--wait", type=float, default=10.0, help="a later reply is lost (s)")
    load.add_argument("--ceiling-secs", type=float, default=3.0, help="0: skip the ceiling")
    load.add_argument("--saturate-secs", type=float, default=3.0,
                      help="0: skip the saturation phase")
    load.add_argument("--half-secs", type=float, default=10.0,
                      help="length of the half-load phase (0: skip it)")
    load.add_argument("--rounds", type=int, default=3,
                      help="ceiling and saturation measured back to back this many times; "
                           "medians reported")
    load.add_argument("--sessions-only", action="store_true",
                      help="only open sessions (enter) and report memory per session")
    load.add_argument("--output", default="loadtest.json")
    load.add_argument("--plot", default="", help="PNG of throughput and latency over time")
    load.add_argument("--redis-url", default="")
    load.add_argument("--redis-core", type=int, choices=(0, 1), default=1,
                      help="core of the embedded Redis: 1 beside the IM simulator, as the "
                           "separate service it is in production (default); 0 beside the "
                           "CS server, sharing its one core")
    load.add_argument("--im-rate-limit", type=int, default=0,
                      help="robot sends per 10 s at the simulator, and the server's "
                           "--rate-limit (0: none)")
    load.add_argument("--robot-limit-customers", type=int, default=0,
                      help="only the robot rate-limit scenario: this many customers at once "
                           "(--im-rate-limit defaults to 1000 per 10 s for it)")
    load.add_argument("--quiet", action="store_true")

    bare = sub.add_parser("ceiling", help="the bare handler the load test compares with")
    bare.add_argument("--port", type=int, default=8899)

    token = sub.add_parser("new-token", help="make an API token and its tokens-file entry")
    token.add_argument("--role", choices=("supervisor", "servicer"), required=True)
    token.add_argument("--servicer", default="", help="the servicer id (role servicer)")

    sim = sub.add_parser("imsim", help="run the IM simulator")
    env_arg(sim, "--host", "IMSIM_HOST", "address to listen on", "127.0.0.1")
    env_arg(sim, "--port", "IMSIM_PORT", "port to listen on", "8880", type=int)
    env_arg(sim, "--admin-secret", "CS_ADMIN_SECRET", "admin secret to accept", secret=True)
    env_arg(sim, "--rate-limit", "IMSIM_RATE_LIMIT", "robot sends allowed per 10 s",
            "1000", type=int)

    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    command = args.command or "demo"
    if command == "demo" and not hasattr(args, "base_port"):
        args = parser.parse_args(["demo", *(argv or sys.argv[1:])])
    {"demo": cmd_demo, "serve": cmd_serve, "appserver": cmd_appserver,
     "imsim": cmd_imsim, "new-token": cmd_new_token, "loadtest": cmd_loadtest,
     "ceiling": cmd_ceiling}[command](args)


if __name__ == "__main__":
    main()
