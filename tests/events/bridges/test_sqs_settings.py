"""Celery on SQS: the settings a fresh interpreter reads from the environment."""

from tests.test_deployment import SETUP, run_python

CODE = (
    SETUP
    + "\nfrom django.conf import settings"
    + "\nopts = settings.CELERY_BROKER_TRANSPORT_OPTIONS"
    + "\nprint(opts['visibility_timeout'], settings.CELERY_TASK_TIME_LIMIT,"
    + " settings.EVENTS.get('DELIVERY_MAX_BACKOFF_SECONDS', 300), opts['is_secure'],"
    + " opts['region'], settings.CELERY_WORKER_ENABLE_REMOTE_CONTROL)"
)


def test_sqs_hides_a_message_longer_than_the_longest_task_and_retry_wait(tmp_path):
    result = run_python(
        CODE,
        tmp_path,
        DJANGO_SECRET_KEY="s",
        CELERY_BROKER_URL="sqs://",
        AWS_DEFAULT_REGION="eu-west-1",
    )

    assert result.returncode == 0, result.stderr
    visibility, time_limit, max_backoff, secure, region, remote = result.stdout.split()
    assert int(visibility) > int(time_limit)
    assert int(visibility) > float(max_backoff)
    assert (secure, region, remote) == ("True", "eu-west-1", "False")


def test_a_plain_http_endpoint_makes_the_sqs_connection_plain(tmp_path):
    result = run_python(
        CODE,
        tmp_path,
        DJANGO_SECRET_KEY="s",
        CELERY_BROKER_URL="sqs://testing:testing@127.0.0.1:5000",
        AWS_ENDPOINT_URL="http://127.0.0.1:5000",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[3] == "False"
