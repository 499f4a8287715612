"""How the hub reaches a production broker: credentials, client id, TLS."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import aiomqtt
import pytest

from hub import Settings
from hub._settings import MqttEndpoint, mqtt_endpoint, public_mqtt_url
from hub.app import create_app
from tests.conftest import MosquittoFactory
from tests.support import SAFETY_TIMEOUT, service_missing

from .conftest import JWT_SECRET
from .helpers import running_hub


def test_credentials_come_from_the_url_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = mqtt_endpoint(Settings(mqtt_url="mqtt://hub:p%40ss@broker"))
    assert plain == MqttEndpoint(
        host="broker", port=1883, username="hub", password="p@ss", tls=False, ca=None
    )
    tls = mqtt_endpoint(Settings(mqtt_url="mqtts://broker", mqtt_ca="/etc/ca.crt"))
    assert (tls.port, tls.tls, tls.ca, tls.username) == (8883, True, "/etc/ca.crt", None)
    for env, value in {
        "VPP_HUB_MQTT": "mqtts://url-user:url-pass@broker:8884",
        "VPP_HUB_MQTT_USERNAME": "hub",
        "VPP_HUB_MQTT_PASSWORD": "secret",
        "VPP_HUB_MQTT_CLIENT_ID": "hub-1",
        "VPP_HUB_MQTT_CA": "/etc/lingtan/ca.crt",
    }.items():
        monkeypatch.setenv(env, value)
    settings = Settings.from_env()
    assert settings.mqtt_client_id == "hub-1"
    assert mqtt_endpoint(settings) == MqttEndpoint(
        host="broker",
        port=8884,
        username="hub",
        password="secret",
        tls=True,
        ca="/etc/lingtan/ca.crt",
    )
    assert public_mqtt_url("mqtts://hub:secret@broker:8883") == "mqtts://broker:8883"
    with pytest.raises(ValueError, match="scheme"):
        mqtt_endpoint(Settings(mqtt_url="http://broker"))


PASSWORD = "s3cret:@/"


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        service_missing("mosquitto_passwd is not installed")
    passwd = tmp_path / "passwd"
    subprocess.run([tool, "-c", "-b", str(passwd), "hub", PASSWORD], check=True)
    passwd.chmod(0o600)
    return passwd


async def test_the_hub_logs_in_to_a_broker_that_refuses_anonymous_clients(
    clean_db: str, mosquitto_factory: MosquittoFactory, password_file: Path
) -> None:
    broker = mosquitto_factory(["allow_anonymous false", f"password_file {password_file}"])
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", broker.port, timeout=SAFETY_TIMEOUT):
            pass
    settings = Settings(
        db_url=clean_db,
        mqtt_url=f"mqtt://hub:{quote(PASSWORD, safe='')}@127.0.0.1:{broker.port}",
        mqtt_client_id="hub-test",
        jwt_secret=JWT_SECRET,
        rate_limit_per_minute=0,
        migrate_on_start=False,
    )
    async with running_hub(create_app(settings)) as hub:
        assert (await hub.get("/readyz")).json()["mqtt"] is True
