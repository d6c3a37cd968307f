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
import textwrap  # noqa: E402
import traceback  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
import gevent.event  # noqa: E402

log = logging.getLogger("wildfire-cs")

HERE = Path(__file__).resolve().parent
DEMO_CONFIG = HERE / "config" / "demo.json"
DEMO_KNOWLEDGE = HERE / "config" / "knowledge.yaml"
COMMANDS = ("demo", "serve", "appserver", "imsim", "loadtest", "ceiling", "new-token")
LOG_LEVELS = ("debug", "info", "warning", "error")
EXIT_STARTUP = 2  # as argparse exits on a bad flag


class Parser(argparse.ArgumentParser):
    """argparse, with a bad flag said in one line (its usage is one --help away)."""

    def error(self, message):
        self.exit(EXIT_STARTUP, f"{self.prog}: {message} (see {self.prog} --help)\n")


def shown(value, secret=False):
    """A default as --help shows it: never an empty ``default ]`` or ``None``."""
    if secret:
        return "given in the environment" if value else "none"
    return "none" if value in (None, "") else str(value)


def opt(parser, flag, help, default=None, **kwargs):
    """A flag without an environment variable; its default is in its help."""
    if kwargs.get("action") == "store_true":
        parser.add_argument(flag, help=f"{help} [default: off]", **kwargs)
    else:
        parser.add_argument(flag, default=default, help=f"{help} [default: {shown(default)}]",
                            **kwargs)


def env_arg(parser, flag, env, help, default=None, type=str, secret=False):
    """A flag whose default comes from an environment variable.

    A secret may also come from a file named by ``<ENV>_FILE`` (Docker and
    Kubernetes secrets are files), so it never has to be on a command line.
    """
    value = os.environ.get(env, default)
    if secret and os.environ.get(env + "_FILE"):
        value = read_secret_file(os.environ[env + "_FILE"], env + "_FILE")
    where = f"env {env} or {env}_FILE" if secret else f"env {env}"
    try:
        typed = type(value) if value is not None else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{env}={value!r} is not a valid {flag}") from None
    parser.add_argument(flag, default=typed, type=type,
                        help=f"{help} [{where}; default: {shown(value, secret)}]")


def read_secret_file(path, what):
    from transport.startup import StartupError

    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StartupError(f"{what}: cannot read {path}: {exc.strerror}") from None


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
    env_arg(p, "--demo-tokens-file", "CS_DEMO_TOKENS_FILE",
            "demo mode only: the demo's tokens, linked from the landing page /", "")
    env_arg(p, "--knowledge", "CS_KNOWLEDGE",
            "knowledge base (YAML or JSON); reloaded on SIGHUP", "")
    env_arg(p, "--api-token", "CS_API_TOKEN", "a supervisor bearer token for /api", "",
            secret=True)
    env_arg(p, "--api-tokens-file", "CS_API_TOKENS_FILE",
            "JSON file of hashed API tokens with roles (see new-token)", "")
    p.add_argument("--open-api", action="store_true",
                   default=os.environ.get("CS_OPEN_API", "") not in ("", "0"),
                   help="with no API token configured, answer /api to any caller, not "
                        "only this machine's (a warning is logged) [env CS_OPEN_API; "
                        "default: off]")
    env_arg(p, "--callback-allow", "CS_CALLBACK_ALLOW",
            "comma-separated networks (CIDR) allowed to call back; empty: any", "")
    env_arg(p, "--max-body-bytes", "CS_MAX_BODY_BYTES", "largest request body accepted",
            str(256 * 1024), type=int)
    env_arg(p, "--rate-limit", "CS_RATE_LIMIT",
            "robot sends allowed per 10 s (the IM server's limit; 0 = none)", "1000", type=int)
    # Not the demo's data/: each demo run starts by removing its own Redis there.
    env_arg(p, "--data-dir", "CS_DATA_DIR", "where the embedded Redis keeps its data",
            str(HERE / "data" / "serve"))


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


def build_parser():
    common = Parser(add_help=False)
    level = os.environ.get("CS_LOG_LEVEL", "info").lower()
    common.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS,
                        default=level if level in LOG_LEVELS else "info",
                        help=f"how much to log; debug also shows a start-up error's "
                             f"traceback [env CS_LOG_LEVEL; default: {level}]")
    # A sub-command's own --log-level must not reset one given before it.
    sub_common = Parser(add_help=False)
    sub_common.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS,
                            default=argparse.SUPPRESS,
                            help="how much to log, also accepted after the command "
                                 "[default: run.py's --log-level]")

    parser = Parser(prog="run.py", description=textwrap.dedent(__doc__.split("\n\n")[1]),
                    parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="With no command, run.py runs the demo (run.py demo --help).")
    sub = parser.add_subparsers(dest="command", metavar="command",
                                help="one of: " + ", ".join(COMMANDS) + " (default: demo)")

    def command(name, help):
        return sub.add_parser(name, help=help, description=help, parents=[sub_common])

    demo = command("demo", "run every part on embedded defaults (the default command)")
    opt(demo, "--base-port", "CS server port; the IM simulator uses +10, the App Server "
        "+20, Redis +9", 8870, type=int)
    opt(demo, "--config", "JSON config: servicers, texts, time-outs", str(DEMO_CONFIG))
    opt(demo, "--knowledge", "the auto-reply's knowledge base (YAML or JSON)",
        str(DEMO_KNOWLEDGE))
    opt(demo, "--data-dir", "where the demo keeps its Redis data and token files",
        str(HERE / "data"))
    opt(demo, "--keep-data", "keep the last run's history, ratings and statistics (open "
        "sessions and seats are still dropped: the simulator starts empty)",
        action="store_true")

    add_serve_args(command("serve", "run the CS server"))

    app = command("appserver", "run the App Server")
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

    load = command("loadtest", "simulated customers against a real CS server")
    opt(load, "--customers", "simulated customers", 200, type=int)
    opt(load, "--servicers", "simulated servicers", 10, type=int)
    opt(load, "--duration", "length of the scenario (s)", 30.0, type=float)
    opt(load, "--rate", "messages per second per customer; 0: half the saturation", 1.0,
        type=float)
    opt(load, "--human-share", "share of customers who ask for a person", 0.3, type=float)
    opt(load, "--think", "servicer think time (s)", 0.5, type=float)
    opt(load, "--questions", "bot questions per customer", 3, type=int)
    opt(load, "--human-messages", "messages with the servicer per customer who asks for one",
        3, type=int)
    opt(load, "--seed", "random seed of the scenario", 1, type=int)
    opt(load, "--wait", "a reply later than this is lost (s)", 10.0, type=float)
    opt(load, "--ceiling-secs", "length of each ceiling measure (0: skip the ceiling)", 3.0,
        type=float)
    opt(load, "--saturate-secs", "length of each saturation measure (0: skip it)", 3.0,
        type=float)
    opt(load, "--half-secs", "length of the half-load phase (0: skip it)", 10.0, type=float)
    opt(load, "--rounds", "ceiling and saturation measured back to back this many times; "
        "medians reported", 3, type=int)
    opt(load, "--sessions-only", "only open sessions (enter) and report memory per session",
        action="store_true")
    opt(load, "--output", "where the JSON result is written", "loadtest.json")
    opt(load, "--plot", "PNG of throughput and latency over time (empty: none)", "")
    opt(load, "--redis-url", "an external Redis (empty: the embedded one)", "")
    opt(load, "--redis-core", "core of the embedded Redis: 1 beside the IM simulator, as "
        "the separate service it is in production; 0 beside the CS server, sharing its "
        "one core", 1, type=int, choices=(0, 1))
    opt(load, "--im-rate-limit", "robot sends per 10 s at the simulator, and the server's "
        "--rate-limit (0: none)", 0, type=int)
    opt(load, "--robot-limit-customers", "only the robot rate-limit scenario: this many "
        "customers at once (--im-rate-limit defaults to 1000 per 10 s for it)", 0, type=int)
    opt(load, "--quiet", "no progress lines, only the result", action="store_true")

    bare = command("ceiling", "the bare handler the load test compares with")
    opt(bare, "--port", "port to listen on", 8899, type=int)

    token = command("new-token", "make an API token and its tokens-file entry")
    token.add_argument("--role", choices=("supervisor", "servicer"), required=True,
                       help="what the token may do [required]")
    opt(token, "--servicer", "the servicer id (role servicer)", "")

    sim = command("imsim", "run the IM simulator")
    env_arg(sim, "--host", "IMSIM_HOST", "address to listen on", "127.0.0.1")
    env_arg(sim, "--port", "IMSIM_PORT", "port to listen on", "8880", type=int)
    env_arg(sim, "--admin-secret", "CS_ADMIN_SECRET", "admin secret to accept", secret=True)
    env_arg(sim, "--rate-limit", "IMSIM_RATE_LIMIT", "robot sends allowed per 10 s",
            "1000", type=int)
    return parser


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
        args = build_parser().parse_args(argv)
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
