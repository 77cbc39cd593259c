"""The deployment files agree with the code: docker-compose.yml, Dockerfile, Procfile, Makefile.

There is no Docker engine where the tests run, so this checks what can be checked without
one: the compose file's shape, that it sets only environment variables something reads,
that its processes are the Procfile's, and how settings behave under a production
environment (in a fresh interpreter, since settings are read once per process).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "project" / "settings.py"
COMPOSE = ROOT / "docker-compose.yml"

APP_PROCESSES = ("web", "worker", "beat", "flower")
CELERY_PROCESSES = ("worker", "beat", "flower")

# os.environ.get("NAME" / os.environ["NAME"] / os.getenv("NAME" / env_bool("NAME" / env_list("NAME"
# / env_int("NAME" / env_float("NAME"
_ENV_READ = re.compile(
    r"""(?:os\.environ\.get\(|os\.environ\[|os\.getenv\(|env_(?:bool|list|int|float)\()"""
    r"""\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def env_names_read(source: str) -> set[str]:
    """The environment variable names a settings module's source reads by a literal name."""
    return set(_ENV_READ.findall(source))


def settings_env_names() -> set[str]:
    return env_names_read(SETTINGS.read_text())


def flower_env_names() -> set[str]:
    """FLOWER_<OPTION> for each of Flower's options: Flower reads these itself."""
    from flower.options import default_options

    return {"FLOWER_" + name.replace("-", "_").upper() for name in default_options._options}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def app_services() -> dict[str, dict]:
    """The services that run this project's Django code (its image, the sandbox aside)."""
    return {
        name: svc
        for name, svc in compose()["services"].items()
        if "build" in svc and name != "sandbox"
    }


def sandbox_env_names() -> set[str]:
    """The environment variable names the sandbox reads (it has no Django settings)."""
    sources = (ROOT / "sandbox" / "config.py", ROOT / "sandbox" / "faults.py")
    found = set()
    for path in sources:
        found |= set(re.findall(r"""env\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""", path.read_text()))
        found |= set(re.findall(r"""env\[["']([A-Z][A-Z0-9_]*)["']\]""", path.read_text()))
    return found


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


def argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else list(command)


def celery_subcommand(command: str | list[str]) -> tuple[str, str]:
    """(app, subcommand) of `celery -A APP SUBCOMMAND ...`."""
    args = argv(command)
    assert args[0] == "celery", command
    assert args[1] == "-A", command
    return args[2], args[3]


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter with only the given project variables set."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "FLOWER_", "DATABASE_", "ORDERS_", "SANDBOX_"))
    }
    base.update(DJANGO_SETTINGS_MODULE="project.settings", VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- the helper itself --------------------------------------------------------------------


def test_env_name_helper_finds_every_form_of_read():
    source = """
X = os.environ.get("A_ONE", "x")
Y = os.environ["B_TWO"]
Z = os.getenv('C_THREE')
D = env_bool("D_FOUR", default=False)
E = env_list(
    "E_FIVE", "a,b")
value = os.environ.get(name)
"""
    assert env_names_read(source) == {"A_ONE", "B_TWO", "C_THREE", "D_FOUR", "E_FIVE"}


def test_env_name_helper_finds_the_number_reads():
    source = """
F = env_int("F_SIX")
G = env_float(
    "G_SEVEN")
"""
    assert env_names_read(source) == {"F_SIX", "G_SEVEN"}


def test_settings_read_the_documented_environment():
    names = settings_env_names()
    documented = {
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "DJANGO_SECRET_KEY",
        "DJANGO_DEBUG",
        "DJANGO_ALLOWED_HOSTS",
        "FLOWER_URL",
    }
    assert documented <= names, documented - names


# --- docker-compose.yml ---------------------------------------------------------------------


def test_compose_parses_and_has_the_services():
    services = compose()["services"]
    for name in ("postgres", "rabbitmq", "web", "worker", "beat", "flower", "migrate"):
        assert name in services, name
    assert set(APP_PROCESSES) | {"migrate"} <= set(app_services())


def test_app_services_set_only_variables_that_something_reads():
    # settings.py reads the project's variables; Flower reads FLOWER_<option> itself
    # (FLOWER_BASIC_AUTH), and ignores other FLOWER_ names such as FLOWER_URL.
    flower_names = flower_env_names()
    assert "FLOWER_BASIC_AUTH" in flower_names
    assert "FLOWER_URL" not in flower_names
    readable = settings_env_names() | flower_names
    required = {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "FLOWER_BASIC_AUTH"}

    for name, service in app_services().items():
        environment = service.get("environment")
        assert isinstance(environment, dict), f"{name}: environment must be a mapping"
        keys = set(environment)
        assert keys <= readable, f"{name} sets variables nothing reads: {keys - readable}"
        assert required <= keys, f"{name} lacks {required - keys}"


def test_app_environment_values():
    for name, service in app_services().items():
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert "@postgres:5432/" in env["DATABASE_URL"], name
        assert env["CELERY_BROKER_URL"].startswith("amqp://"), name
        assert "@rabbitmq:5672/" in env["CELERY_BROKER_URL"], name
        assert str(env["DJANGO_DEBUG"]).lower() == "false", name
        # No secret is baked in: compose refuses to start without one.
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), name
        assert env["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?"), name


def test_app_services_wait_for_their_dependencies():
    services = compose()["services"]
    for name in ("postgres", "rabbitmq"):
        assert "healthcheck" in services[name], name
    for name in APP_PROCESSES:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"]["condition"] == "service_healthy", name
        assert depends_on["rabbitmq"]["condition"] == "service_healthy", name
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
    assert argv(services["migrate"]["command"])[:3] == ["python", "manage.py", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_published_ports_bind_to_loopback_only():
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"
    services = compose()["services"]
    assert "127.0.0.1:8000:8000" in services["web"]["ports"]
    assert "127.0.0.1:5555:5555" in services["flower"]["ports"]


def test_compose_processes_are_the_procfile_processes():
    entries = procfile()
    services = compose()["services"]
    for name in APP_PROCESSES:
        assert name in entries, f"Procfile has no {name}"
    for name in CELERY_PROCESSES:
        in_compose = celery_subcommand(services[name]["command"])
        in_procfile = celery_subcommand(entries[name])
        assert in_compose == in_procfile == ("project", name)
    # The web process serves the project's WSGI application in both.
    web = argv(services["web"]["command"])
    assert web[0] == "gunicorn"
    assert "project.wsgi:application" in web
    assert argv(entries["web"])[:3] == ["python", "manage.py", "runserver"]
    assert 'WSGI_APPLICATION = "project.wsgi.application"' in SETTINGS.read_text()
    # The relay runs the same management command in both.
    assert argv(services["relay"]["command"]) == argv(entries["relay"])


def test_compose_runs_the_sandbox_beside_the_app():
    services = compose()["services"]
    sandbox = services["sandbox"]
    assert argv(sandbox["command"]) == ["python", "-m", "sandbox"] == argv(procfile()["sandbox"])
    assert sandbox["image"] == services["web"]["image"]
    env = sandbox["environment"]
    assert set(env) <= sandbox_env_names(), set(env) - sandbox_env_names()
    assert "DATABASE_URL" not in env  # its own ledger, never the app's database
    assert env["SANDBOX_DB_PATH"].startswith("/app/var/sandbox/")
    assert any(volume.endswith(":/app/var/sandbox") for volume in sandbox["volumes"])
    assert env["SANDBOX_CALLBACK_URL"] == "http://web:8000/api/payments/callback/"
    assert "127.0.0.1:8700:8700" in sandbox["ports"]
    for name in APP_PROCESSES:
        assert "sandbox:8700" in services[name]["environment"]["SANDBOX_URL"], name
    assert "web" in services["web"]["environment"]["DJANGO_ALLOWED_HOSTS"]


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_uv_matches_the_makefile():
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    in_dockerfile = re.findall(r"\buv==([0-9][0-9A-Za-z.]*)", dockerfile)
    in_makefile = re.findall(r"^UV_VERSION\s*:?=\s*(\S+)\s*$", makefile, re.MULTILINE)
    assert len(in_dockerfile) == 1, in_dockerfile
    assert len(in_makefile) == 1, in_makefile
    assert in_dockerfile == in_makefile


def test_dockerfile_installs_from_the_lock_without_dev_tools():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY pyproject.toml uv.lock" in dockerfile
    assert re.search(r"uv sync --frozen --no-dev\b", dockerfile)
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in dockerfile
    assert re.search(r"^USER (?!root\b)\S+", dockerfile, re.MULTILINE), "must not run as root"


# --- settings under a production environment ----------------------------------------------

SETUP = "import django; django.setup()"


def test_settings_refuse_to_start_without_a_secret_when_debug_is_off(tmp_path):
    result = run_python(SETUP, tmp_path, DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_settings_refuse_to_start_without_a_secret_on_a_database_url(tmp_path):
    # DEBUG is off unless asked for, with a DATABASE_URL as without one.
    result = run_python(SETUP, tmp_path, DATABASE_URL="postgres://u:p@db:5432/x")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_settings_reject_a_debug_value_that_is_not_a_boolean(tmp_path, value):
    result = run_python(SETUP, tmp_path, DJANGO_DEBUG=value, DJANGO_SECRET_KEY="s")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_DEBUG" in result.stderr
    assert repr(value) in result.stderr


def test_settings_reject_an_orders_variable_that_is_not_a_number(tmp_path):
    result = run_python(SETUP, tmp_path, DJANGO_SECRET_KEY="s", ORDERS_PENDING_TTL_SECONDS="1h")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "ORDERS_PENDING_TTL_SECONDS must be a whole number, got '1h'" in result.stderr


def test_settings_pass_the_orders_variables_on_and_leave_the_rest_to_their_defaults(tmp_path):
    code = SETUP + "\nfrom django.conf import settings\nprint(settings.ORDERS)"

    result = run_python(
        code, tmp_path, DJANGO_SECRET_KEY="s", ORDERS_PAYMENT_CONFIRMATION_TIMEOUT_SECONDS="4"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'PAYMENT_CONFIRMATION_TIMEOUT_SECONDS': 4.0}"


def test_settings_take_the_redis_visibility_timeout_and_look_for_lost_messages_in_time(tmp_path):
    code = (
        SETUP
        + "\nfrom django.conf import settings\nprint(settings.CELERY_BROKER_TRANSPORT_OPTIONS)"
    )
    broker = {"DJANGO_SECRET_KEY": "s", "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}

    default = run_python(code, tmp_path, **broker)
    short = run_python(code, tmp_path, REDIS_VISIBILITY_TIMEOUT_SECONDS="10", **broker)

    assert default.returncode == short.returncode == 0, default.stderr + short.stderr
    expected = "'unacked_restore_interval': {}, 'unacked_restore_throttle': 1"
    assert "'visibility_timeout': 3600.0" in default.stdout
    assert expected.format(60.0) in default.stdout
    assert "'visibility_timeout': 10.0" in short.stdout
    assert expected.format(1.0) in short.stdout


def test_settings_switch_the_watchdog_off_from_the_environment(tmp_path):
    code = (
        SETUP + "\nfrom events.conf import events_settings\nprint(events_settings.WATCHDOG_ENABLED)"
    )

    default = run_python(code, tmp_path, DJANGO_SECRET_KEY="s")
    off = run_python(code, tmp_path, DJANGO_SECRET_KEY="s", EVENTS_WATCHDOG_ENABLED="false")

    assert (default.stdout.strip(), off.stdout.strip()) == ("True", "False"), off.stderr


def test_settings_with_the_production_environment(tmp_path):
    # Setting up Django reads settings and loads the apps; it opens no connection, so the
    # hosts need not exist.
    code = (
        SETUP
        + "\nfrom django.conf import settings"
        + "\nprint(settings.DATABASES['default']['ENGINE'])"
        + "\nprint(settings.CELERY_BROKER_URL)"
        + "\nprint(settings.DEBUG)"
        + "\nprint(settings.STORAGES['staticfiles']['BACKEND'])"
    )
    broker = "amqp://guest:guest@rabbitmq:5672//"
    result = run_python(
        code,
        tmp_path,
        DATABASE_URL="postgres://u:p@db:5432/x",
        DJANGO_SECRET_KEY="s",
        CELERY_BROKER_URL=broker,
    )
    assert result.returncode == 0, result.stderr
    engine, broker_url, debug, storage = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker_url == broker
    assert debug == "False"
    assert storage == "project.storage.StaticStorage"  # hashed, compressed (WhiteNoise)
    # The amqp broker needs no folders: nothing is created under VAR_DIR.
    assert not (tmp_path / "broker").exists()


def test_debug_is_off_unless_asked_for(tmp_path):
    code = SETUP + "\nfrom django.conf import settings\nprint(settings.DEBUG)"

    unset = run_python(code, tmp_path, DJANGO_SECRET_KEY="s")
    asked = run_python(code, tmp_path, DJANGO_DEBUG="true")

    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.split() == ["False"]
    assert asked.returncode == 0, asked.stderr  # a development key stands in
    assert asked.stdout.split() == ["True"]


def test_reading_the_settings_makes_no_folder(tmp_path):
    var_dir = tmp_path / "var"

    result = run_python(SETUP, var_dir, DJANGO_SECRET_KEY="s")

    assert result.returncode == 0, result.stderr
    assert not var_dir.exists()


def test_a_fresh_checkout_gets_its_folders_from_what_uses_them(tmp_path):
    # The embedded default, with no var/ yet: connecting to SQLite makes the database's
    # folder, configuring the Celery app makes the filesystem broker's, and the static
    # files middleware makes STATIC_ROOT.
    var_dir = tmp_path / "var"
    code = (
        SETUP
        + "\nfrom django.db import connection; connection.ensure_connection()"
        + "\nfrom project.celery import app; app.conf.broker_url"
        + "\nfrom project.middleware import StaticFilesMiddleware; StaticFilesMiddleware()"
    )

    result = run_python(code, var_dir, DJANGO_SECRET_KEY="s")

    assert result.returncode == 0, result.stderr
    assert (var_dir / "db.sqlite3").is_file()
    for folder in ("queue", "control", "processed"):
        assert (var_dir / "broker" / folder).is_dir(), folder
    assert (var_dir / "static").is_dir()


# --- README -------------------------------------------------------------------------------


def test_the_readme_configuration_table_lists_every_variable_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") :]
    table = table[: table.index("\n## ")]

    missing = {name for name in settings_env_names() if f"`{name}`" not in table}

    assert not missing, f"README's configuration table lacks {sorted(missing)}"


# --- metrics: Prometheus and Grafana in compose ----------------------------------------------

DEPLOY = ROOT / "deploy"


def mounts(service: dict) -> dict[str, Path]:
    """Container path -> host path of a service's bind mounts from this repository."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[target] = ROOT / source
    return found


def test_every_app_process_writes_its_metrics_to_a_folder_fresh_at_each_start():
    for name, service in app_services().items():
        folder = service["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert folder in service["tmpfs"], name


def test_prometheus_scrapes_web_and_the_exporter_of_each_worker_and_relay():
    services = compose()["services"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert jobs["web"]["static_configs"][0]["targets"] == ["web:8000"]
    assert "web" in services["web"]["environment"]["DJANGO_ALLOWED_HOSTS"]
    for name in ("worker", "relay"):
        environment = services[name]["environment"]
        (lookup,) = jobs[name]["dns_sd_configs"]
        assert lookup["names"] == [name]
        assert str(lookup["port"]) == environment["METRICS_EXPORTER_PORT"]
        assert environment["METRICS_EXPORTER_HOST"] == "0.0.0.0"
    assert "METRICS_EXPORTER_PORT" not in services["web"]["environment"]  # /metrics instead
    assert config["rule_files"] == ["alerts.yml"]


def test_prometheus_and_grafana_are_provisioned_from_deploy():
    services = compose()["services"]
    prometheus = mounts(services["prometheus"])
    assert prometheus["/etc/prometheus"] == DEPLOY / "prometheus"
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]

    grafana = mounts(services["grafana"])
    assert grafana["/etc/grafana/provisioning"] == DEPLOY / "grafana" / "provisioning"
    assert grafana["/etc/grafana/dashboards"] == DEPLOY / "grafana" / "dashboards"
    provisioning = DEPLOY / "grafana" / "provisioning"
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert (source["type"], source["url"], source["uid"]) == (
        "prometheus",
        "http://prometheus:9090",
        "prometheus",
    )
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "fulfillment.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    assert (DEPLOY / "grafana" / "dashboards" / "fulfillment.json").is_file()
    password = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert password.startswith("${GRAFANA_ADMIN_PASSWORD:?"), "no password baked in"


def test_settings_refuse_an_exporter_port_without_a_multiprocess_folder(tmp_path):
    result = run_python(SETUP, tmp_path, DJANGO_SECRET_KEY="s", METRICS_EXPORTER_PORT="9808")

    assert result.returncode != 0
    assert "METRICS_EXPORTER_PORT needs PROMETHEUS_MULTIPROC_DIR" in result.stderr


def test_settings_refuse_a_multiprocess_folder_that_does_not_exist(tmp_path):
    missing = str(tmp_path / "nowhere")

    result = run_python(SETUP, tmp_path, DJANGO_SECRET_KEY="s", PROMETHEUS_MULTIPROC_DIR=missing)

    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR must name an existing folder" in result.stderr


def test_settings_refuse_a_metrics_network_that_is_not_one(tmp_path):
    result = run_python(SETUP, tmp_path, DJANGO_SECRET_KEY="s", METRICS_ALLOWED_NETWORKS="lan")

    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS must list networks" in result.stderr
    assert "'lan'" in result.stderr
