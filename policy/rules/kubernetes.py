"""Kubernetes model serving (pulumi-kubernetes): Pod Security Standards *restricted* and reliability basics.

Workload inputs are the Kubernetes manifest fields (`spec.template.spec.containers[].securityContext`, ...),
so the pod spec is found by kind. Waivers are annotations `waiver.mlops/<rule>` on the workload.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ResourceValidationArgs, Severity

from .._props import as_list, get, is_false, is_true, number
from .._rule import ADVISORY_IN_DEV, resource_rule

TEMPLATE = ("spec", "template", "spec")
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "kubernetes:apps/v1:Deployment": TEMPLATE,
    "kubernetes:apps/v1:StatefulSet": TEMPLATE,
    "kubernetes:apps/v1:DaemonSet": TEMPLATE,
    "kubernetes:apps/v1:ReplicaSet": TEMPLATE,
    "kubernetes:batch/v1:Job": TEMPLATE,
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
WORKLOADS = tuple(POD_SPEC_PATHS)
REPLICATED = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet")
NAMESPACE = "kubernetes:core/v1:Namespace"
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
SAFE_SECCOMP = ("RuntimeDefault", "Localhost")
ALLOWED_ADDED_CAPABILITIES = ("NET_BIND_SERVICE",)
MIN_REPLICAS = 2


def pod_spec(args: ResourceValidationArgs) -> Any:
    """The pod spec inside the workload (None when the manifest has none)."""
    return get(args.props, *POD_SPEC_PATHS[args.resource_type])


def containers(pod: Any, *, init: bool = True) -> list[tuple[str, Any]]:
    """(label, container) of every container, init containers included unless `init` is False."""
    kinds = ("containers", "initContainers") if init else ("containers",)
    return [
        (f"{'init container' if kind == 'initContainers' else 'container'} {get(c, 'name', default=i)}", c)
        for kind in kinds
        for i, c in enumerate(as_list(get(pod, kind)))
    ]


def _context(container: Any, pod: Any, key: str) -> Any:
    """A security-context setting of the container, falling back to the pod's."""
    value = get(container, "securityContext", key)
    return value if value is not None else get(pod, "securityContext", key)


@resource_rule(
    name="k8s-run-as-non-root",
    ids=("PSS-R:runAsNonRoot", "CKV_K8S_23", "POL:runAsRootAllowed", "KSEC:runAsNonRoot"),
    summary="Serving containers run as a non-root user",
    fix="Set pod security_context run_as_non_root=True and run_as_user=10001 (a high UID)",
    types=WORKLOADS,
)
def run_as_non_root(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    pod = pod_spec(args)
    for label, container in containers(pod):
        if not is_true(_context(container, pod, "runAsNonRoot")):
            yield f"{label} may run as root (runAsNonRoot is not true)"
        if number(_context(container, pod, "runAsUser")) == 0:
            yield f"{label} runs as UID 0"


@resource_rule(
    name="k8s-no-privilege-escalation",
    ids=("PSS-R:allowPrivilegeEscalation", "PSS-B:privileged", "CKV_K8S_20", "CKV_K8S_16"),
    summary="Containers are not privileged and cannot gain privileges",
    fix="Set allow_privilege_escalation=False and leave privileged unset on each container's security_context",
    types=WORKLOADS,
    severity=Severity.CRITICAL,
)
def no_privilege_escalation(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args)):
        if not is_false(get(container, "securityContext", "allowPrivilegeEscalation")):
            yield f"{label} allows privilege escalation"
        if is_true(get(container, "securityContext", "privileged")):
            yield f"{label} is privileged"


@resource_rule(
    name="k8s-drop-all-capabilities",
    ids=("PSS-R:capabilities", "CKV_K8S_28", "CKV_K8S_37", "KSEC:capDropAll"),
    summary="Containers drop all Linux capabilities (adding back only NET_BIND_SERVICE)",
    fix="Set capabilities={'drop': ['ALL']} on each container's security_context",
    types=WORKLOADS,
)
def drop_all_capabilities(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args)):
        caps = get(container, "securityContext", "capabilities")
        if "ALL" not in as_list(get(caps, "drop")):
            yield f"{label} does not drop ALL capabilities"
        added = [c for c in as_list(get(caps, "add")) if c not in ALLOWED_ADDED_CAPABILITIES]
        if added:
            yield f"{label} adds capabilities {', '.join(map(str, added))}"


@resource_rule(
    name="k8s-seccomp-profile",
    ids=("PSS-R:seccompProfile", "CKV_K8S_31", "KSEC:seccompAny"),
    summary="Pods run with the RuntimeDefault (or a Localhost) seccomp profile",
    fix="Set pod security_context seccomp_profile={'type': 'RuntimeDefault'}",
    types=WORKLOADS,
)
def seccomp_profile(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    pod = pod_spec(args)
    for label, container in containers(pod):
        kind = get(container, "securityContext", "seccompProfile", "type") or get(
            pod, "securityContext", "seccompProfile", "type"
        )
        if kind not in SAFE_SECCOMP:
            yield f"{label} seccomp profile is {kind or 'unset'}"


@resource_rule(
    name="k8s-read-only-root-filesystem",
    ids=("CKV_K8S_22", "POL:notReadOnlyRootFilesystem", "KSEC:readOnlyRootFilesystem"),
    summary="Containers have a read-only root filesystem (scratch space on emptyDir volumes)",
    fix="Set read_only_root_filesystem=True and mount emptyDir volumes for /tmp and the model cache",
    types=WORKLOADS,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def read_only_root_filesystem(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args)):
        if not is_true(get(container, "securityContext", "readOnlyRootFilesystem")):
            yield f"{label} has a writable root filesystem"


@resource_rule(
    name="k8s-resources-set",
    ids=("CKV_K8S_10", "CKV_K8S_12", "CKV_K8S_13", "KS:container-resources"),
    summary="Containers request CPU and memory and cap memory",
    fix="Set resources={'requests': {'cpu': ..., 'memory': ...}, 'limits': {'memory': ...}}",
    types=WORKLOADS,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def resources_set(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args)):
        resources = get(container, "resources")
        missing = [
            name
            for name, path in (("cpu request", ("requests", "cpu")), ("memory request", ("requests", "memory")),
                               ("memory limit", ("limits", "memory")))
            if get(resources, *path) in (None, "")
        ]
        if missing:
            yield f"{label} has no {', '.join(missing)}"


@resource_rule(
    name="k8s-probes",
    ids=("CKV_K8S_8", "CKV_K8S_9", "KS:pod-probes"),
    summary="Serving containers have distinct readiness and liveness probes",
    fix="Set readiness_probe (e.g. GET /ping) and a different liveness_probe; add a startup_probe for slow loads",
    types=WORKLOADS,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def probes(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args), init=False):
        readiness, liveness = get(container, "readinessProbe"), get(container, "livenessProbe")
        if readiness is None or liveness is None:
            missing = [n for n, p in (("readiness", readiness), ("liveness", liveness)) if p is None]
            yield f"{label} has no {' or '.join(missing)} probe"
        elif isinstance(readiness, Mapping) and dict(readiness) == dict(liveness):
            yield f"{label} uses the same probe for readiness and liveness"


@resource_rule(
    name="k8s-image-pinned",
    ids=("CKV_K8S_14", "CKV_K8S_43", "KS:container-image-tag"),
    summary="Images are pinned by digest (or at least a tag that is not `latest`)",
    fix="Use image=f'{repository_url}@{digest}' (mlops:image.digest)",
    types=WORKLOADS,
    levels=ADVISORY_IN_DEV,
)
def image_pinned(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    for label, container in containers(pod_spec(args)):
        image = str(get(container, "image", default=""))
        if "@sha256:" in image:
            continue
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        if tag in ("", "latest"):
            yield f"{label} image '{image}' is not pinned"


@resource_rule(
    name="k8s-no-host-namespaces",
    ids=("PSS-B:hostNamespaces", "PSS-B:hostPorts", "CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "CKV_K8S_26"),
    summary="Pods do not share the node's network, PID or IPC namespaces, nor bind host ports",
    fix="Leave host_network/host_pid/host_ipc unset and drop host_port from container ports",
    types=WORKLOADS,
    severity=Severity.CRITICAL,
)
def no_host_namespaces(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    pod = pod_spec(args)
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(get(pod, key)):
            yield f"pod sets {key}"
    for label, container in containers(pod):
        if any(get(p, "hostPort") for p in as_list(get(container, "ports"))):
            yield f"{label} binds a host port"


@resource_rule(
    name="k8s-min-replicas",
    ids=("POL:multipleReplicasForDeployment", "PCP:kubernetes-apps-v1-deployment-configure-minimum-replica-count"),
    summary=f"Serving Deployments and StatefulSets run at least {MIN_REPLICAS} replicas",
    fix=f"Set replicas >= {MIN_REPLICAS} (with a PodDisruptionBudget and zone spread)",
    types=REPLICATED,
    levels=ADVISORY_IN_DEV,
)
def min_replicas(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    replicas = number(get(args.props, "spec", "replicas"))
    if replicas is None or replicas < MIN_REPLICAS:
        yield f"runs {1 if replicas is None else int(replicas)} replica(s)"


@resource_rule(
    name="k8s-no-default-namespace",
    ids=("CKV_K8S_21",),
    summary="Workloads live in their own namespace, not `default`",
    fix="Set metadata.namespace to the serving namespace (or the provider's namespace=)",
    types=WORKLOADS,
    severity=Severity.MEDIUM,
)
def no_default_namespace(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    namespace = get(args.props, "metadata", "namespace")
    if namespace is None and args.provider is not None:
        namespace = get(args.provider.props, "namespace")
    if namespace in (None, "", "default"):
        yield "workload runs in the default namespace"


@resource_rule(
    name="k8s-no-service-account-token",
    ids=("CKV_K8S_38", "KSEC:automountServiceAccountToken"),
    summary="Pods do not mount a Kubernetes API token they do not use",
    fix="Set automount_service_account_token=False on the pod spec (IRSA / Pod Identity still work)",
    types=WORKLOADS,
    levels=ADVISORY_IN_DEV,
    severity=Severity.MEDIUM,
)
def no_service_account_token(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    if not is_false(get(pod_spec(args), "automountServiceAccountToken")):
        yield "pod mounts the service account token"


@resource_rule(
    name="k8s-namespace-enforces-restricted",
    ids=("PSS-R", "REF-56"),
    summary="Namespaces the stack creates enforce the Pod Security Standard `restricted` at admission",
    fix="Label the namespace pod-security.kubernetes.io/enforce: restricted (and warn: restricted)",
    types=(NAMESPACE,),
)
def namespace_enforces_restricted(args: ResourceValidationArgs, _env: str) -> Iterator[str]:
    level = get(args.props, "metadata", "labels", ENFORCE_LABEL)
    if level != "restricted":
        yield f"namespace enforces {level or 'no'} pod security level"
