"""The Kubernetes manifests: valid objects (the API's own JSON schemas, through
kubernetes-validate, strict), probes on routes the hub serves, and parts that fit together
(selectors, port names, the kustomization's list, the PrometheusRule kept equal to the
rules file). No cluster runs here: this is what can be checked without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from hub._settings import Settings
from hub.app import create_app

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported upstream when written
CRDS = {"monitoring.coreos.com/v1"}  # prometheus-operator: no schema in the core API


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def everything() -> list[tuple[str, dict[str, Any]]]:
    files = sorted(K8S.glob("*.yaml")) + sorted((K8S / "monitoring").glob("*.yaml"))
    return [
        (path.relative_to(K8S).as_posix(), doc)
        for path in files
        if path.name != "kustomization.yaml"
        for doc in documents(path)
    ]


OBJECTS = everything()


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in OBJECTS if doc["kind"] == kind}


@pytest.mark.parametrize(
    "doc", [doc for _, doc in OBJECTS if doc["apiVersion"] not in CRDS],
    ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}",
)  # fmt: skip
def test_every_object_is_valid_for_the_kubernetes_api(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_examples() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    shipped = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == shipped - {"secret.example.yaml"}
    assert [image["name"] for image in kustomization["images"]] == ["lingtan-vpp"]


def test_the_hub_probes_routes_it_serves() -> None:
    hub = by_kind("StatefulSet")["lingtan-hub"]
    (container,) = hub["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    paths = {route.path for route in create_app(Settings(mqtt_url=None)).routes}
    assert {"/healthz", "/readyz"} <= paths
    assert hub["spec"]["replicas"] >= 2
    client_id = next(e for e in container["env"] if e["name"] == "VPP_HUB_MQTT_CLIENT_ID")
    assert client_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", (
        "each replica's stable pod name is its MQTT client id"
    )


def test_services_select_pods_and_name_their_ports() -> None:
    workloads = {**by_kind("StatefulSet"), **by_kind("Deployment")}
    for name, service in by_kind("Service").items():
        selector = service["spec"]["selector"]
        matching = [
            w for w in workloads.values()
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        assert matching, f"Service {name} selects no workload"
        container_ports = {
            p["name"] for w in matching for c in w["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }  # fmt: skip
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in container_ports, (name, port)
    ingress = by_kind("Ingress")["lingtan-hub"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] in by_kind("Service")


def test_the_prometheus_rule_is_the_rules_file() -> None:
    rule = by_kind("PrometheusRule")["lingtan"]
    shipped = yaml.safe_load((ROOT / "deploy/prometheus/rules/lingtan.rules.yml").read_text())
    assert rule["spec"]["groups"] == shipped["groups"]
    monitor = by_kind("ServiceMonitor")["lingtan-hub"]
    metrics_service = by_kind("Service")["lingtan-hub-pods"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= (
        metrics_service["metadata"]["labels"].items()
    )


def test_the_schema_check_refuses_a_misspelt_field() -> None:
    hub = by_kind("StatefulSet")["lingtan-hub"]
    broken = {**hub, "spec": {**hub["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
