"""The Docker stack, checked without Docker.

No Docker engine runs where the tests run, so these tests read Dockerfile,
.dockerignore and docker-compose.yml as data and check them against the project
itself: every command a container would run names a program the image installs
and a module, Celery app or manage.py command that really exists; every service
that is depended on or connected to is defined; the settings parse the URLs the
stack hands them.
"""

import importlib.util
import itertools
import json
import os
import re
import shlex
import sys
import tomllib
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# What every container running the project's image must be told.
REQUIRED_APP_ENV = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "STATICFILES_BACKEND",
}
# URLs with these schemes point outside the stack (the site's public address).
PUBLIC_SCHEMES = {"http", "https"}
SHELL_KEYWORDS = {"exec", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!"}
MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


# ---------------------------------------------------------------- compose file


_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|\$(?P<bare>\w+)"
)


# What an operator must set before `docker compose up` (the stack refuses to start without).
OPERATOR_ENV = {"SECRET_KEY": "k" * 40 + "0123456789abcdef"}


class MissingVariableError(Exception):
    pass


def interpolate(value, given=OPERATOR_ENV):
    """Resolve compose ${VAR} syntax as compose would with only `given` set."""
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        if given.get(name):
            return given[name]
        if op in (":-", "-"):
            return interpolate(arg, given)
        if op in (":?", "?"):
            raise MissingVariableError(f"{name}: {arg}")
        return ""

    return _VARIABLE.sub(replace, value)


def load_compose():
    with COMPOSE_FILE.open() as fh:
        return yaml.safe_load(fh)


def services():
    return load_compose()["services"]


def project_services():
    """Services running the image built from this repository."""
    all_services = services()
    built_images = {s.get("image") for s in all_services.values() if "build" in s}
    return {
        name: s
        for name, s in all_services.items()
        if "build" in s or (s.get("image") and s.get("image") in built_images)
    }


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: interpolate(str(value)) for key, value in env.items()}


def depends_on(service):
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return deps


def split_commands(argv):
    """Turn one container command into the argv lists it runs (sh -c "a && b" is two)."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    argv = [interpolate(str(a)) for a in argv]
    if argv and Path(argv[0]).name in ("sh", "bash") and "-c" in argv:
        script = argv[argv.index("-c") + 1]
        commands = []
        for part in re.split(r"&&|\|\|?|;|\n", script):
            words = shlex.split(part)
            while words and words[0] in SHELL_KEYWORDS:
                words = words[1:]
            if words:
                commands.append(words)
        return commands
    return [argv]


def service_commands(service):
    command = service.get("command")
    if command is None:
        command = dockerfile_cmd()
    return split_commands(command)


# ------------------------------------------------------------------ Dockerfile


def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    if current:
        logical.append(current)
    pairs = []
    for line in logical:
        instruction, _, rest = line.partition(" ")
        pairs.append((instruction.upper(), rest.strip()))
    return pairs


def exec_or_shell_form(arguments):
    if arguments.startswith("["):
        return json.loads(arguments)
    return ["/bin/sh", "-c", arguments]


def dockerfile_cmd():
    cmds = [args for instr, args in dockerfile_instructions() if instr == "CMD"]
    assert cmds, "the Dockerfile has no CMD, so a service without a command would run nothing"
    return exec_or_shell_form(cmds[-1])


def dockerfile_run_commands():
    """Each RUN's commands, with the ENV in force at that point."""
    env, runs = {}, []
    for instr, args in dockerfile_instructions():
        if instr == "ENV":
            for word in shlex.split(args):
                if "=" in word:
                    key, value = word.split("=", 1)
                    env[key] = value
        elif instr == "RUN":
            runs.extend((argv, dict(env)) for argv in split_commands(exec_or_shell_form(args)))
    return runs


def dockerignore_excludes(path):
    """Whether .dockerignore keeps path (relative to the repository) out of the build."""
    if not DOCKERIGNORE.exists():
        return False
    excluded = False
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in DOCKERIGNORE.read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, candidate) for candidate in candidates):
            excluded = not negate
    return excluded


# ------------------------------------------------------------- command checks


def venv_program(program):
    return Path(sys.executable).parent / program


def console_script_distribution(program):
    found = entry_points(group="console_scripts", name=program)
    return next(iter(found)).dist.name if found else None


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies():
    """Distributions the image gets from `pip install .` (no [dev] extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        normalize(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req).group(0))
        for req in project["dependencies"]
    }


def check_gunicorn(argv):
    from gunicorn.config import Config
    from gunicorn.util import import_app

    options = Config().parser().parse_args(argv[1:])
    assert len(options.args) == 1, (
        f"gunicorn needs exactly one app (module:callable), got {options.args}"
    )
    with warnings.catch_warnings():
        # WhiteNoise warns that STATIC_ROOT is missing: the image fills it with collectstatic.
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        app = import_app(options.args[0])
    assert callable(app), f"{options.args[0]} is not a WSGI callable"
    return options


def check_uvicorn(argv):
    """The options uvicorn's own command line parses from argv; the app must be ASGI."""
    import inspect

    from uvicorn.importer import import_from_string
    from uvicorn.main import main as uvicorn_cli

    options = uvicorn_cli.make_context("uvicorn", list(argv[1:])).params
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
        app = import_from_string(options["app"])
    assert inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__), (
        f"{options['app']} is not an ASGI application"
    )
    return options


def parse_celery(argv):
    """(app name, subcommand, subcommand arguments) of a `celery ...` command line."""
    takes_value = {
        "-A",
        "--app",
        "-b",
        "--broker",
        "--result-backend",
        "--loader",
        "--config",
        "--workdir",
    }
    app, rest, i = None, argv[1:], 0
    while i < len(rest):
        word = rest[i]
        if word in ("-A", "--app"):
            app = rest[i + 1]
        elif word.startswith("--app="):
            app = word.split("=", 1)[1]
        elif word.startswith("-A") and len(word) > 2:
            app = word[2:]
        if word in takes_value:
            i += 2
            continue
        if not word.startswith("-"):
            return app, word, rest[i + 1 :]
        i += 1
    return app, None, []


def check_celery(argv):
    import click
    from celery import Celery
    from celery.app.utils import find_app
    from celery.bin.base import CLIContext
    from celery.bin.celery import celery as celery_cli

    app_name, subcommand, arguments = parse_celery(argv)
    assert app_name, f"{argv} does not name a Celery app with -A"
    app = find_app(app_name)
    assert isinstance(app, Celery), f"celery -A {app_name} finds {app!r}, not a Celery app"
    assert subcommand in celery_cli.commands, f"celery has no subcommand {subcommand!r}"
    # Let Celery's own command line parse the options: an unknown or misspelt one fails here.
    parent = click.Context(
        celery_cli, obj=CLIContext(app=app, no_color=True, workdir=None, quiet=True)
    )
    celery_cli.commands[subcommand].make_context(subcommand, list(arguments), parent=parent)
    return app, subcommand


def check_python(argv):
    from django.core.management import get_commands

    if argv[1:2] == ["-m"]:
        module = argv[2]
        assert importlib.util.find_spec(module) is not None, f"python -m {module}: no such module"
        return
    arguments = [a for a in argv[1:] if not a.startswith("-")]
    assert arguments, f"{argv} runs an interactive Python"
    script = arguments[0]
    assert (ROOT / script).is_file(), f"python {script}: the repository has no {script}"
    if Path(script).name == "manage.py":
        assert len(arguments) > 1, "manage.py is run without a command"
        subcommand = arguments[1]
        assert subcommand in get_commands(), f"manage.py has no {subcommand!r} command"


def check_command(argv):
    program = Path(argv[0]).name
    if program in ("gunicorn",):
        check_gunicorn(argv)
    elif program == "uvicorn":
        check_uvicorn(argv)
    elif program == "celery":
        check_celery(argv)
    elif re.fullmatch(r"python(3(\.\d+)?)?", program):
        check_python(argv)
    else:
        pytest.fail(f"{argv}: a command this test does not know how to check")


# ---------------------------------------------------------------------- tests


def test_compose_file_defines_the_production_stack():
    defined = set(services())
    assert {"web", "worker", "beat", "listener", "postgres", "redis", "mail"} <= defined
    assert project_services().keys() >= {"web", "worker", "beat", "listener"}


def test_every_project_service_runs_a_program_the_image_installs():
    dependencies = runtime_dependencies()
    for name, service in project_services().items():
        for argv in service_commands(service):
            program = argv[0]
            if re.fullmatch(r"python(3(\.\d+)?)?", program):
                continue
            assert venv_program(program).exists(), f"{name}: {program} is not installed in the venv"
            distribution = console_script_distribution(program)
            assert distribution, f"{name}: no installed package provides the {program} command"
            assert normalize(distribution) in dependencies, (
                f"{name}: {program} comes from {distribution}, which pyproject.toml does not list "
                "as a runtime dependency, so the image (pip install .) would not have it"
            )


def test_every_service_command_refers_to_something_in_the_project():
    for name, service in project_services().items():
        for argv in service_commands(service):
            try:
                check_command(argv)
            except (Exception, SystemExit) as error:
                pytest.fail(f"service {name!r}, command {argv}: {error!r}")


def test_web_serves_the_project_on_the_port_it_publishes():
    # An ASGI server: the live updates' streams must not hold a worker each (live/views.py).
    web = services()["web"]
    (argv,) = [a for a in service_commands(web) if Path(a[0]).name == "uvicorn"]
    options = check_uvicorn(argv)
    assert options["app"] == "helpdesk.asgi:application"
    assert options["host"] == "0.0.0.0", "uvicorn must listen beyond the container"  # noqa: S104
    published = {str(port).rsplit(":", 1)[-1].split("/")[0] for port in web.get("ports", [])}
    assert str(options["port"]) in published, (
        f"web publishes {published} but uvicorn binds {options['port']}"
    )


def test_worker_and_beat_run_the_helpdesk_celery_app():
    subcommands = {}
    for name, service in project_services().items():
        for argv in service_commands(service):
            if Path(argv[0]).name == "celery":
                app_name, subcommand, _ = parse_celery(argv)
                assert app_name == "helpdesk", f"{name} runs the Celery app {app_name!r}"
                subcommands[subcommand] = name
    assert {"worker", "beat"} <= subcommands.keys()


@pytest.mark.django_db
def test_beat_only_schedules_tasks_the_worker_registers():
    from celery.app.utils import find_app

    app = find_app("helpdesk")
    app.loader.import_default_modules()
    registered = set(app.tasks)
    for entry_name, entry in (app.conf.beat_schedule or {}).items():
        assert entry["task"] in registered, (
            f"beat entry {entry_name!r} names unknown task {entry['task']!r}"
        )


def test_migrations_run_before_the_long_running_services_start():
    all_services = services()
    migrating = {
        name
        for name, service in project_services().items()
        for argv in service_commands(service)
        if "manage.py" in argv and "migrate" in argv
    }
    assert migrating, "nothing in the stack runs manage.py migrate"
    for name in ("web", "worker", "beat", "listener"):
        if name in migrating:
            continue
        deps = depends_on(all_services[name])
        assert any(
            dep in migrating and cond.get("condition") == "service_completed_successfully"
            for dep, cond in deps.items()
        ), f"{name} can start before the migrations ran"


def test_every_depends_on_names_a_defined_service():
    all_services = services()
    for name, service in all_services.items():
        for dependency, spec in depends_on(service).items():
            assert dependency in all_services, f"{name} depends on undefined service {dependency!r}"
            assert dependency != name, f"{name} depends on itself"
            condition = (spec or {}).get("condition", "service_started")
            assert condition in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
            if condition == "service_healthy":
                assert "healthcheck" in all_services[dependency], (
                    f"{name} waits for {dependency} to be healthy; {dependency} has no healthcheck"
                )


def test_postgres_has_a_healthcheck():
    postgres = services()["postgres"]
    assert postgres["image"].startswith("postgres:15")
    test = postgres["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))


def test_environment_urls_point_at_services_defined_in_the_stack():
    all_services = services()
    hostnames = set(all_services) | {
        s["hostname"] for s in all_services.values() if "hostname" in s
    }
    checked = 0
    for name, service in all_services.items():
        for key, value in environment(service).items():
            if "://" not in value:
                continue
            url = urlsplit(value)
            if url.scheme in PUBLIC_SCHEMES or not url.hostname:
                continue
            assert url.hostname in hostnames, (
                f"{name}: {key}={value} points at unknown host {url.hostname!r}"
            )
            checked += 1
    assert checked, "no service URL was found to check"


def test_every_project_service_gets_the_settings_it_needs():
    for name, service in project_services().items():
        env = environment(service)
        missing = REQUIRED_APP_ENV - env.keys()
        assert not missing, f"{name} is not given {sorted(missing)}"
        assert env["EMAIL_URL"] == "smtp://mail:1025"
        assert env["SECRET_KEY"] == OPERATOR_ENV["SECRET_KEY"], f"{name}: SECRET_KEY is not ours"


def test_compose_refuses_to_start_without_a_secret_key():
    for name, service in project_services().items():
        raw = (service.get("environment") or {})["SECRET_KEY"]
        with pytest.raises(MissingVariableError, match="SECRET_KEY"):
            interpolate(raw, given={})
        assert "insecure" not in raw, f"{name} still carries a fallback key"


def test_settings_understand_the_urls_the_stack_hands_them():
    import environ
    from django.utils.module_loading import import_string
    from kombu import Connection
    from kombu.transport import resolve_transport

    for name, service in project_services().items():
        env = environment(service)
        database = environ.Env.db_url_config(env["DATABASE_URL"])
        assert database["ENGINE"] == "django.db.backends.postgresql", name
        postgres_env = environment(services()[database["HOST"]])
        assert database["NAME"] == postgres_env["POSTGRES_DB"], (
            f"{name} uses a database postgres does not create"
        )
        assert database["USER"] == postgres_env["POSTGRES_USER"], (
            f"{name} logs in as a user postgres does not create"
        )
        assert database["PASSWORD"] == postgres_env["POSTGRES_PASSWORD"], (
            f"{name} has the wrong database password"
        )

        email = environ.Env.email_url_config(env["EMAIL_URL"])
        assert email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend", name

        if "CACHE_URL" in env:
            cache = environ.Env.cache_url_config(env["CACHE_URL"])
            import_string(cache["BACKEND"])

        transport = resolve_transport(Connection(env["CELERY_BROKER_URL"]).transport_cls)
        assert transport, f"{name}: kombu has no transport for {env['CELERY_BROKER_URL']}"

        storage = import_string(env["STATICFILES_BACKEND"])
        assert issubclass(storage, import_string(MANIFEST_STORAGE)), (
            f"{name}: production static files should use hashed (manifest) names"
        )


def test_dockerfile_only_refers_to_files_in_the_repository():
    for instruction, arguments in dockerfile_instructions():
        if instruction in ("COPY", "ADD"):
            words = shlex.split(arguments)
            if any(w.startswith("--from") for w in words):
                continue
            for source in [w for w in words if not w.startswith("--")][:-1]:
                assert (ROOT / source).exists(), (
                    f"Dockerfile copies {source}, which is not in the repository"
                )
                assert source == "." or not dockerignore_excludes(source), (
                    f".dockerignore hides {source}"
                )
    for argv, _env in dockerfile_run_commands():
        if Path(argv[0]).name == "pip" and "install" in argv:
            for before, target in itertools.pairwise(argv):
                if target == ".":
                    assert (ROOT / "pyproject.toml").is_file(), "pip install . needs pyproject.toml"
                elif before in ("-r", "--requirement", "-c", "--constraint"):
                    assert (ROOT / target).is_file(), f"Dockerfile installs from missing {target}"
        if re.fullmatch(r"python(3(\.\d+)?)?", Path(argv[0]).name) and "manage.py" in argv:
            check_python(argv)
    check_command(dockerfile_cmd())


def test_dockerignore_keeps_what_the_image_needs():
    from django.conf import settings

    needed = {"manage.py", "pyproject.toml"}
    modules = [
        os.environ["DJANGO_SETTINGS_MODULE"],
        settings.ROOT_URLCONF,
        settings.WSGI_APPLICATION,
    ]
    for app in [*settings.INSTALLED_APPS, *modules]:
        top = app.split(".")[0]
        if (ROOT / top).is_dir():
            needed.add(top)
    dirs = [*settings.STATICFILES_DIRS, *settings.LOCALE_PATHS]
    for engine in settings.TEMPLATES:
        dirs.extend(engine.get("DIRS", []))
    for directory in dirs:
        path = Path(directory)
        if path.is_dir() and path.resolve().is_relative_to(ROOT):
            needed.add(str(path.resolve().relative_to(ROOT)))
    assert "static" in needed
    excluded = sorted(path for path in needed if dockerignore_excludes(path))
    assert not excluded, f".dockerignore leaves {excluded} out of the image"


def test_image_collects_static_files_with_the_production_storage_and_runs_as_non_root():
    collectstatic = [env for argv, env in dockerfile_run_commands() if "collectstatic" in argv]
    assert collectstatic, "the image never runs collectstatic"
    assert (
        collectstatic[0].get("STATICFILES_BACKEND")
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    users = [
        arguments for instruction, arguments in dockerfile_instructions() if instruction == "USER"
    ]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"


def test_compose_helpers_read_what_compose_would():
    """The parsing above is itself right: interpolation, shell commands and ignore patterns."""
    assert interpolate("postgres://u:${PW:-secret}@db/x") == "postgres://u:secret@db/x"
    assert interpolate("${UNSET}") == ""
    assert interpolate("${SET:-default}", given={"SET": "value"}) == "value"
    with pytest.raises(MissingVariableError):
        interpolate("${REQUIRED:?say why}", given={})
    assert interpolate("$${NOT_A_VAR}") == "${NOT_A_VAR}"
    assert split_commands(["sh", "-c", "python manage.py migrate && exec gunicorn a.b:c"]) == [
        ["python", "manage.py", "migrate"],
        ["gunicorn", "a.b:c"],
    ]
    assert split_commands(["sh", "-c", "if test -d x; then python manage.py check; fi"]) == [
        ["test", "-d", "x"],
        ["python", "manage.py", "check"],
    ]
    assert split_commands("celery -A helpdesk worker") == [["celery", "-A", "helpdesk", "worker"]]
    assert parse_celery(["celery", "-A", "helpdesk", "beat", "--loglevel=INFO"]) == (
        "helpdesk",
        "beat",
        ["--loglevel=INFO"],
    )
    assert parse_celery(["celery", "--app=x.y", "worker"])[:2] == ("x.y", "worker")
    assert dockerignore_excludes(".venv/bin/python")
    assert not dockerignore_excludes("helpdesk/settings.py")


def _worker_queues(argv) -> set[str] | None:
    """The queues a `celery worker` command line names with -Q; None: every declared one."""
    _app, subcommand, arguments = parse_celery(argv)
    assert subcommand == "worker"
    for index, word in enumerate(arguments):
        if word in ("-Q", "--queues"):
            return set(arguments[index + 1].split(","))
        if word.startswith(("--queues=", "-Q")) and word not in ("-Q",):
            return set(word.split("=", 1)[-1].removeprefix("-Q").split(","))
    return None


def test_the_default_workers_consume_every_queue_and_split_workers_name_real_ones():
    from django.conf import settings

    declared = set(settings.CELERY_TASK_QUEUES)
    assert declared == {
        "intake",
        "customer_mail",
        "internal_mail",
        "periodic",
        "webhooks",
        "chat",
        "search",
    }
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= declared
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    default_workers = {"Procfile": shlex.split(procfile["worker"])}
    default_workers["compose"] = service_commands(services()["worker"])[0]
    for where, argv in default_workers.items():
        assert _worker_queues(argv) in (None, declared), f"the {where} worker skips a queue"
    for name, service in project_services().items():
        for argv in service_commands(service):
            if Path(argv[0]).name == "celery" and parse_celery(argv)[1] == "worker":
                queues = _worker_queues(argv)
                assert queues is None or queues <= declared, f"{name} names unknown queues"


def test_the_imap_idle_listener_runs_in_compose_and_in_the_procfile():
    # One long-running process for every mailbox (mailboxes/idle.py), beside beat's polling.
    commands = [argv for argv in service_commands(services()["listener"])]
    assert commands == [["python", "manage.py", "listen_mail"]]
    check_python(commands[0])
    assert services()["listener"].get("profiles") is None, "the listener runs by default"
    procfile = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    argv = shlex.split(procfile["listener"])
    assert argv[1:] == ["manage.py", "listen_mail"]
    check_python(["python", *argv[1:]])
