"""run.py's command line: every subcommand's options, each with help and a shown default.

Kept apart from run.py, which must patch gevent before anything else is
imported; this module imports only the standard library at load time.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

COMMANDS = ("demo", "serve", "appserver", "imsim", "loadtest", "ceiling", "new-token")
LOG_LEVELS = ("debug", "info", "warning", "error")
EXIT_STARTUP = 2  # as argparse exits on a bad flag


class Parser(argparse.ArgumentParser):
    """argparse, with a bad flag said in one line (its usage is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_STARTUP, f"{self.prog}: {message} (see {self.prog} --help)\n")


def shown(value: Any, secret: bool = False) -> str:
    """A default as --help shows it: never an empty ``default ]`` or ``None``."""
    if secret:
        return "given in the environment" if value else "none"
    return "none" if value in (None, "") else str(value)


def opt(parser: argparse.ArgumentParser, flag: str, help: str, default: Any = None,
        **kwargs: Any) -> None:
    """A flag without an environment variable; its default is in its help."""
    if kwargs.get("action") == "store_true":
        parser.add_argument(flag, help=f"{help} [default: off]", **kwargs)
    else:
        parser.add_argument(flag, default=default, help=f"{help} [default: {shown(default)}]",
                            **kwargs)


def env_arg(parser: argparse.ArgumentParser, flag: str, env: str, help: str,
            default: str | None = None, type: Callable[[str], Any] = str,
            secret: bool = False) -> None:
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


def read_secret_file(path: str, what: str) -> str:
    from transport.startup import StartupError

    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise StartupError(f"{what}: cannot read {path}: {exc.strerror}") from None


def add_serve_args(p: argparse.ArgumentParser, root: Path) -> None:
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
            str(root / "data" / "serve"))



def build_parser(doc: str, root: Path) -> argparse.ArgumentParser:
    """run.py's arguments: ``doc`` is its docstring, ``root`` the project's folder."""
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

    parser = Parser(prog="run.py", description=textwrap.dedent(doc.split("\n\n")[1]),
                    parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                    epilog="With no command, run.py runs the demo (run.py demo --help).")
    sub = parser.add_subparsers(dest="command", metavar="command",
                                help="one of: " + ", ".join(COMMANDS) + " (default: demo)")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[sub_common])

    demo = command("demo", "run every part on embedded defaults (the default command)")
    opt(demo, "--base-port", "CS server port; the IM simulator uses +10, the App Server "
        "+20, Redis +9", 8870, type=int)
    opt(demo, "--config", "JSON config: servicers, texts, time-outs",
        str(root / "config" / "demo.json"))
    opt(demo, "--knowledge", "the auto-reply's knowledge base (YAML or JSON)",
        str(root / "config" / "knowledge.yaml"))
    opt(demo, "--data-dir", "where the demo keeps its Redis data and token files",
        str(root / "data"))
    opt(demo, "--keep-data", "keep the last run's history, ratings and statistics (open "
        "sessions and seats are still dropped: the simulator starts empty)",
        action="store_true")

    add_serve_args(command("serve", "run the CS server"), root)

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
